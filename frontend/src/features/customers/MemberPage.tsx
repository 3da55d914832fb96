import { Anchor, Breadcrumbs, Group, Stack, Tabs, Text } from '@mantine/core';
import { useEffect } from 'react';
import { Link, Navigate, useLocation, useNavigate, useParams } from 'react-router';
import { useQuery } from 'urql';
import { EmptyState, ErrorState, LoadingState } from '../../components/States';
import { graphql } from '../../gql';
import { DownloadExcelButton } from '../exports/DownloadExcelButton';
import { MemberHeader } from './MemberHeader';
import { MEMBER_TABS, memberPath, resolveTab } from './memberTabs';

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
                        <s.component customerId={member.customerId} />
                      </Tabs.Panel>
                    ))}
                  </Tabs>
                ) : (
                  <>
                    <Group justify="flex-end" mb="sm">
                      <DownloadExcelButton key={resolved.exportTab} customerId={member.customerId} tab={resolved.exportTab} />
                    </Group>
                    {t.component && <t.component customerId={member.customerId} />}
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
