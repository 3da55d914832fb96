/**
 * Dates as the organization sees them.
 *
 * The API sends every DateTime as ISO 8601 with the organization's offset and every Date as a
 * calendar day in the organization's time zone; we format DateTimes in that zone (not the
 * browser's) and never shift Dates.
 */

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function dateTimeFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dateTimeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      day: '2-digit',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    dateTimeFormats.set(timeZone, format);
  }
  return format;
}

const calendarFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: '2-digit',
  month: 'short',
  year: 'numeric',
});

/** "05 Mar 2024, 14:03" in the given zone; "" for null. */
export function formatDateTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '';
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return dateTimeFormat(timeZone).format(when);
}

/** "05 Mar 2024" for a calendar day "2024-03-05"; the day is never shifted by a zone. */
export function formatDate(day: string | null | undefined): string {
  if (!day) return '';
  const parsed = parseDay(day);
  return parsed ? calendarFormat.format(parsed) : day;
}

/** The calendar day ("YYYY-MM-DD") of an instant in the given zone. */
export function dayInZone(when: Date, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(when);
}

export function todayInZone(timeZone: string, now: Date = new Date()): string {
  return dayInZone(now, timeZone);
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(day: string): Date | null {
  const m = DAY_RE.exec(day);
  if (!m) return null;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.getUTCDate() === Number(m[3]) ? date : null;
}

export function isDay(value: string | null | undefined): value is string {
  return !!value && parseDay(value) !== null;
}

/** `day` moved by `days` calendar days. */
export function addDays(day: string, days: number): string {
  const parsed = parseDay(day);
  if (!parsed) throw new Error(`not a day: ${day}`);
  parsed.setUTCDate(parsed.getUTCDate() + days);
  return parsed.toISOString().slice(0, 10);
}

/** A short zone label for headers, e.g. "Asia/Kolkata (GMT+5:30)". */
export function zoneLabel(timeZone: string, now: Date = new Date()): string {
  const part = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(now)
    .find((p) => p.type === 'timeZoneName');
  return part ? `${timeZone} (${part.value})` : timeZone;
}
