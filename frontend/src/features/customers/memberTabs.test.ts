import { MEMBER_TABS, memberPath, resolveTab } from './memberTabs';

describe('member tabs in the URL', () => {
  it('opens the first tab and sub-tab by default', () => {
    const r = resolveTab(undefined, undefined);
    expect([r.tab.value, r.sub?.value, r.exportTab, r.normalized]).toEqual([
      'points',
      'redemptions',
      'POINTS_REDEMPTIONS',
      true,
    ]);
  });

  it('keeps a valid tab and sub-tab as they are', () => {
    const r = resolveTab('coupons', 'issued');
    expect([r.exportTab, r.normalized]).toEqual(['COUPONS_ISSUED', false]);
  });

  it('falls back to the first sub-tab of a known tab', () => {
    const r = resolveTab('other', 'nope');
    expect([r.sub?.value, r.normalized]).toEqual(['segments', true]);
  });

  it('handles tabs without sub-tabs', () => {
    expect(resolveTab('events').exportTab).toBe('BEHAVIORAL_EVENTS');
    expect(resolveTab('leads', 'extra').normalized).toBe(true);
  });

  it('exports every customer tab from somewhere', () => {
    const exported = new Set(
      MEMBER_TABS.flatMap((t) => (t.subs.length ? t.subs.map((s) => s.exportTab) : [t.exportTab])),
    );
    expect(exported.size).toBe(16);
  });

  it('encodes customer ids in paths', () => {
    expect(memberPath('A/B 1', 'points', 'expired')).toBe('/customers/A%2FB%201/points/expired');
    expect(memberPath('X')).toBe('/customers/X');
  });
});
