import type { Channel, CustomerTab } from '../../gql/graphql';

/** The member page's tabs and sub-tabs: URL segments, labels and what each exports. */
export interface SubTab {
  value: string;
  label: string;
  exportTab: CustomerTab;
}

export interface MemberTab {
  value: string;
  label: string;
  /** Sub-tabs; a tab without them exports `exportTab`. */
  subs: SubTab[];
  exportTab?: CustomerTab;
}

export const INTERACTION_CHANNELS: { value: string; label: string; channel: Channel }[] = [
  { value: 'sms', label: 'SMS', channel: 'SMS' },
  { value: 'email', label: 'Email', channel: 'EMAIL' },
  { value: 'wechat', label: 'WeChat', channel: 'WECHAT' },
  { value: 'webengage', label: 'WebEngage', channel: 'WEBENGAGE' },
  { value: 'surveys', label: 'Surveys', channel: 'SURVEY' },
];

export const MEMBER_TABS: MemberTab[] = [
  {
    value: 'points',
    label: 'Points',
    subs: [
      { value: 'redemptions', label: 'Redemptions', exportTab: 'POINTS_REDEMPTIONS' },
      { value: 'expiry-schedule', label: 'Expiry Schedule', exportTab: 'POINTS_EXPIRY_SCHEDULE' },
      { value: 'expired', label: 'Expired', exportTab: 'POINTS_EXPIRED' },
      { value: 'tier-history', label: 'Tier History', exportTab: 'POINTS_TIER_HISTORY' },
      { value: 'promotions', label: 'Promotions', exportTab: 'POINTS_PROMOTIONS' },
      { value: 'loyalty-tracker', label: 'Loyalty Tracker', exportTab: 'POINTS_LOYALTY_TRACKER' },
      { value: 'transfers', label: 'Transfers', exportTab: 'POINTS_TRANSFERS' },
      { value: 'activity', label: 'All Activity', exportTab: 'POINTS_ACTIVITY' },
    ],
  },
  {
    value: 'coupons',
    label: 'Coupons',
    subs: [
      { value: 'issued', label: 'Issued', exportTab: 'COUPONS_ISSUED' },
      { value: 'redemptions', label: 'Redemptions', exportTab: 'COUPONS_REDEMPTIONS' },
    ],
  },
  {
    value: 'transactions',
    label: 'Transactions',
    subs: [
      { value: 'purchases', label: 'Purchases', exportTab: 'TRANSACTIONS' },
      { value: 'returns', label: 'Returns', exportTab: 'TRANSACTIONS' },
    ],
  },
  {
    value: 'interactions',
    label: 'Interactions',
    subs: INTERACTION_CHANNELS.map((c) => ({ value: c.value, label: c.label, exportTab: 'INTERACTIONS' as const })),
  },
  { value: 'events', label: 'Behavioral Events', subs: [], exportTab: 'BEHAVIORAL_EVENTS' },
  { value: 'leads', label: 'Leads', subs: [], exportTab: 'LEADS' },
  {
    value: 'other',
    label: 'Other Details',
    subs: [
      { value: 'segments', label: 'Segment History', exportTab: 'SEGMENT_HISTORY' },
      { value: 'identifiers', label: 'Identifier Change History', exportTab: 'IDENTIFIER_HISTORY' },
    ],
  },
];

export interface ResolvedTab {
  tab: MemberTab;
  sub: SubTab | null;
  exportTab: CustomerTab;
  /** True when the URL named something unknown (or nothing) and we fell back to a default. */
  normalized: boolean;
}

/** Maps the URL's `/:tab/:sub` onto a known tab, falling back to the first tab / sub-tab. */
export function resolveTab(tabValue?: string, subValue?: string): ResolvedTab {
  const found = MEMBER_TABS.find((t) => t.value === tabValue);
  const tab = found ?? MEMBER_TABS[0];
  if (!tab.subs.length) {
    return { tab, sub: null, exportTab: tab.exportTab!, normalized: !found || !!subValue };
  }
  const foundSub = tab.subs.find((s) => s.value === subValue);
  const sub = foundSub ?? tab.subs[0];
  return { tab, sub, exportTab: sub.exportTab, normalized: !found || !foundSub };
}

export function memberPath(customerId: string, tab?: string, sub?: string | null): string {
  const parts = ['/customers', encodeURIComponent(customerId)];
  if (tab) parts.push(tab);
  if (tab && sub) parts.push(sub);
  return parts.join('/');
}
