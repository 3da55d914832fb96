import { Anchor, Breadcrumbs, Group, Stack, Tabs, Text } from '@mantine/core';
import { useEffect, type ReactNode } from 'react';
import { Link, Navigate, useLocation, useNavigate, useParams } from 'react-router';
import { useQuery } from 'urql';
import { EmptyState, ErrorState, LoadingState } from '../../components/States';
import { graphql } from '../../gql';
import { DownloadExcelButton } from '../exports/DownloadExcelButton';
import { BehavioralEventsTab } from '../history/BehavioralEventsTab';
import { CouponsIssuedTab, CouponRedemptionsTab } from '../history/CouponsTabs';
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
import { MemberHeader } from './MemberHeader';
import { INTERACTION_CHANNELS, MEMBER_TABS, memberPath, resolveTab } from './memberTabs';

const MEMBER = graphql(`
  query Member($customerId: String!) {
    customer(customerId: $customerId) {
      id
      customerId
      name
      email
      mobile
      externalId
      optedIn
      tier
      userRole
      groupId
      pointsBalance
      enrolledAt
    }
  }
`);

function content(tab: string, sub: string | null, customerId: string): ReactNode {
  const key = `${tab}/${sub ?? ''}`;
  switch (key) {
    case 'points/redemptions':
      return <RedemptionsTab customerId={customerId} />;
    case 'points/expiry-schedule':
      return <ExpiryScheduleTab customerId={customerId} />;
    case 'points/expired':
      return <ExpiredTab customerId={customerId} />;
    case 'points/tier-history':
      return <TierHistoryTab customerId={customerId} />;
    case 'points/promotions':
      return <PromotionsTab customerId={customerId} />;
    case 'points/loyalty-tracker':
      return <LoyaltyTrackerTab customerId={customerId} />;
    case 'points/transfers':
      return <TransfersTab customerId={customerId} />;
    case 'points/activity':
      return <ActivityTab customerId={customerId} />;
    case 'coupons/issued':
      return <CouponsIssuedTab customerId={customerId} />;
    case 'coupons/redemptions':
      return <CouponRedemptionsTab customerId={customerId} />;
    case 'transactions/purchases':
      return <TransactionsTab customerId={customerId} type="PURCHASE" />;
    case 'transactions/returns':
      return <TransactionsTab customerId={customerId} type="RETURN" />;
    case 'events/':
      return <BehavioralEventsTab customerId={customerId} />;
    case 'leads/':
      return <LeadsTab customerId={customerId} />;
    case 'other/segments':
      return <SegmentHistoryTab customerId={customerId} />;
    case 'other/identifiers':
      return <IdentifierHistoryTab customerId={customerId} />;
  }
  if (tab === 'interactions') {
    const channel = INTERACTION_CHANNELS.find((c) => c.value === sub) ?? INTERACTION_CHANNELS[0];
    return <InteractionsTab customerId={customerId} channel={channel.channel} label={channel.label} />;
  }
  return null;
}

/** The member page: `/customers/:customerId/:tab/:sub`, every tab's paging in `?after=`. */
export function MemberPage() {
  const params = useParams();
  const customerId = params.customerId ?? '';
  const location = useLocation();
  const navigate = useNavigate();
  const resolved = resolveTab(params.tab, params.sub);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MEMBER,
    variables: { customerId },
  });

  useEffect(() => {
    document.title = data?.customer ? `${data.customer.name} · Member360` : 'Member · Member360';
  }, [data]);

  if (resolved.normalized) {
    return (
      <Navigate
        to={memberPath(customerId, resolved.tab.value, resolved.sub?.value) + location.search}
        replace
      />
    );
  }
  const member = data?.customer;
  const go = (tab: string, sub?: string | null) => navigate(memberPath(customerId, tab, sub));

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/customers">
          Members
        </Anchor>
        <Text size="sm">{member?.name ?? customerId}</Text>
      </Breadcrumbs>
      {error && !member && <ErrorState error={error} onRetry={() => refetch({ requestPolicy: 'network-only' })} />}
      {!member && fetching && <LoadingState label="Loading member…" />}
      {data && !member && !fetching && (
        <EmptyState>
          No member has the customer ID “{customerId}”.{' '}
          <Anchor component={Link} to="/customers">
            Search again
          </Anchor>
        </EmptyState>
      )}
      {member && (
        <>
          <MemberHeader member={member} />
          <Tabs
            value={resolved.tab.value}
            onChange={(v) => v && go(v)}
            keepMounted={false}
            activateTabWithKeyboard={false}
          >
            <Tabs.List aria-label="Member history">
              {MEMBER_TABS.map((t) => (
                <Tabs.Tab key={t.value} value={t.value}>
                  {t.label}
                </Tabs.Tab>
              ))}
            </Tabs.List>
            {MEMBER_TABS.map((t) => (
              <Tabs.Panel key={t.value} value={t.value} pt="sm">
                {t.subs.length > 0 ? (
                  <Tabs
                    variant="pills"
                    value={resolved.sub?.value}
                    onChange={(v) => v && go(t.value, v)}
                    keepMounted={false}
                    activateTabWithKeyboard={false}
                  >
                    <Group justify="space-between" wrap="wrap" gap="xs" mb="sm">
                      <Tabs.List aria-label={`${t.label} views`}>
                        {t.subs.map((s) => (
                          <Tabs.Tab key={s.value} value={s.value}>
                            {s.label}
                          </Tabs.Tab>
                        ))}
                      </Tabs.List>
                      <DownloadExcelButton
                        key={resolved.exportTab}
                        customerId={member.customerId}
                        tab={resolved.exportTab}
                      />
                    </Group>
                    {t.subs.map((s) => (
                      <Tabs.Panel key={s.value} value={s.value}>
                        {content(t.value, s.value, member.customerId)}
                      </Tabs.Panel>
                    ))}
                  </Tabs>
                ) : (
                  <>
                    <Group justify="flex-end" mb="sm">
                      <DownloadExcelButton key={resolved.exportTab} customerId={member.customerId} tab={resolved.exportTab} />
                    </Group>
                    {content(t.value, null, member.customerId)}
                  </>
                )}
              </Tabs.Panel>
            ))}
          </Tabs>
        </>
      )}
    </Stack>
  );
}
