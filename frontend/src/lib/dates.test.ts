import { addDays, dayInZone, formatDate, formatDateTime, isDay, todayInZone, zoneLabel } from './dates';

describe('dates in the organization time zone', () => {
  it('formats a DateTime in the org zone, not the browser zone', () => {
    // 20:00 UTC is already the next day, 01:30, in Kolkata.
    expect(formatDateTime('2024-03-04T20:00:00+00:00', 'Asia/Kolkata')).toBe('05 Mar 2024, 01:30');
    expect(formatDateTime('2024-03-04T20:00:00+00:00', 'America/New_York')).toBe('04 Mar 2024, 15:00');
  });

  it('leaves empty values empty and odd values as they are', () => {
    expect(formatDateTime(null, 'UTC')).toBe('');
    expect(formatDateTime('not a date', 'UTC')).toBe('not a date');
  });

  it('never shifts a calendar Date', () => {
    expect(formatDate('2024-03-05')).toBe('05 Mar 2024');
    expect(formatDate('2024-12-31')).toBe('31 Dec 2024');
    expect(formatDate(undefined)).toBe('');
  });

  it("knows the org's today around midnight", () => {
    const instant = new Date('2024-06-30T19:00:00Z'); // 00:30 on 1 July in Kolkata
    expect(todayInZone('Asia/Kolkata', instant)).toBe('2024-07-01');
    expect(dayInZone(instant, 'UTC')).toBe('2024-06-30');
  });

  it('adds calendar days across months and leap days', () => {
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2023-12-31', 1)).toBe('2024-01-01');
    expect(addDays('2024-01-31', -30)).toBe('2024-01-01');
  });

  it('validates days', () => {
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2023-02-29')).toBe(false);
    expect(isDay('2024-2-1')).toBe(false);
    expect(isDay(null)).toBe(false);
  });

  it('labels the zone with its offset', () => {
    expect(zoneLabel('Asia/Kolkata', new Date('2024-01-01T00:00:00Z'))).toBe('Asia/Kolkata (GMT+5:30)');
  });
});
