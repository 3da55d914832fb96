import type { ComponentType } from 'react';
import type { Channel, CustomerTab, TransactionType } from '../../gql/graphql';
import { BehavioralEventsTab } from '../history/BehavioralEventsTab';
import { CouponRedemptionsTab, CouponsIssuedTab } from '../history/CouponsTabs';
import { InteractionsTab } from '../history/InteractionsTab';
import { LeadsTab } from '../history/LeadsTab';
import { IdentifierHistoryTab, SegmentHistoryTab } from '../history/OtherDetailsTabs';
import { TransactionsTab } from '../history/TransactionsTab';
import { ActivityTab } from '../ledger/ActivityTab';
import {
  ExpiredTab,
  ExpiryScheduleTab,
  LoyaltyTrackerTab,
  PromotionsTab,
  TierHistoryTab,
  TransfersTab,
} from '../ledger/PointsTabs';
import { RedemptionsTab } from '../ledger/RedemptionsTab';

export { memberPath } from './memberPath';

/** What a tab shows: given the member, it queries and renders the rest itself. */
export type TabComponent = ComponentType<{ customerId: string }>;

/** The member page's tabs and sub-tabs: URL segments, labels, what each shows and exports. */
export interface SubTab {
  value: string;
  label: string;
  exportTab: CustomerTab;
  component: TabComponent;
}

export interface MemberTab {
  value: string;
  label: string;
  /** Sub-tabs; a tab without them shows `component` and exports `exportTab`. */
  subs: SubTab[];
  exportTab?: CustomerTab;
  component?: TabComponent;
}

export const INTERACTION_CHANNELS: { value: string; label: string; channel: Channel }[] = [
  { value: 'sms', label: 'SMS', channel: 'SMS' },
  { value: 'email', label: 'Email', channel: 'EMAIL' },
  { value: 'wechat', label: 'WeChat', channel: 'WECHAT' },
  { value: 'webengage', label: 'WebEngage', channel: 'WEBENGAGE' },
  { value: 'surveys', label: 'Surveys', channel: 'SURVEY' },
];

/** Transactions of one type: the purchases and returns sub-tabs. */
function transactionsOf(type: TransactionType): TabComponent {
  return ({ customerId }) => <TransactionsTab customerId={customerId} type={type} />;
}

/** Interactions on one channel: a sub-tab per channel. */
function interactionsOn(c: (typeof INTERACTION_CHANNELS)[number]): TabComponent {
  return ({ customerId }) => <InteractionsTab customerId={customerId} channel={c.channel} label={c.label} />;
}

// An entry's `value` and `exportTab` share a line: tests/graphql/test_declared_tabs.py reads them.
export const MEMBER_TABS: MemberTab[] = [
  {
    value: 'points',
    label: 'Points',
    subs: [
      { value: 'redemptions', label: 'Redemptions', exportTab: 'POINTS_REDEMPTIONS', component: RedemptionsTab },
      { value: 'expiry-schedule', label: 'Expiry Schedule', exportTab: 'POINTS_EXPIRY_SCHEDULE', component: ExpiryScheduleTab },
      { value: 'expired', label: 'Expired', exportTab: 'POINTS_EXPIRED', component: ExpiredTab },
      { value: 'tier-history', label: 'Tier History', exportTab: 'POINTS_TIER_HISTORY', component: TierHistoryTab },
      { value: 'promotions', label: 'Promotions', exportTab: 'POINTS_PROMOTIONS', component: PromotionsTab },
      { value: 'loyalty-tracker', label: 'Loyalty Tracker', exportTab: 'POINTS_LOYALTY_TRACKER', component: LoyaltyTrackerTab },
      { value: 'transfers', label: 'Transfers', exportTab: 'POINTS_TRANSFERS', component: TransfersTab },
      { value: 'activity', label: 'All Activity', exportTab: 'POINTS_ACTIVITY', component: ActivityTab },
    ],
  },
  {
    value: 'coupons',
    label: 'Coupons',
    subs: [
      { value: 'issued', label: 'Issued', exportTab: 'COUPONS_ISSUED', component: CouponsIssuedTab },
      { value: 'redemptions', label: 'Redemptions', exportTab: 'COUPONS_REDEMPTIONS', component: CouponRedemptionsTab },
    ],
  },
  {
    value: 'transactions',
    label: 'Transactions',
    subs: [
      { value: 'purchases', label: 'Purchases', exportTab: 'TRANSACTIONS', component: transactionsOf('PURCHASE') },
      { value: 'returns', label: 'Returns', exportTab: 'TRANSACTIONS', component: transactionsOf('RETURN') },
    ],
  },
  {
    value: 'interactions',
    label: 'Interactions',
    subs: INTERACTION_CHANNELS.map((c) => ({
      value: c.value,
      label: c.label,
      exportTab: 'INTERACTIONS' as const,
      component: interactionsOn(c),
    })),
  },
  { value: 'events', label: 'Behavioral Events', subs: [], exportTab: 'BEHAVIORAL_EVENTS', component: BehavioralEventsTab },
  { value: 'leads', label: 'Leads', subs: [], exportTab: 'LEADS', component: LeadsTab },
  {
    value: 'other',
    label: 'Other Details',
    subs: [
      { value: 'segments', label: 'Segment History', exportTab: 'SEGMENT_HISTORY', component: SegmentHistoryTab },
      { value: 'identifiers', label: 'Identifier Change History', exportTab: 'IDENTIFIER_HISTORY', component: IdentifierHistoryTab },
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
