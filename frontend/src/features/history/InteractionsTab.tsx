import { Text } from '@mantine/core';
import { useQuery } from 'urql';
import { useTimeZone } from '../../app/OrgProvider';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge, orDash } from '../../components/format';
import { Pager } from '../../components/Pager';
import { graphql } from '../../gql';
import type { Channel, CustomerInteractionsQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePaging } from '../../lib/usePaging';

const INTERACTIONS = graphql(`
  query CustomerInteractions($customerId: String!, $channel: Channel, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      interactions(channel: $channel, first: $first, after: $after) {
        edges {
          cursor
          node {
            sentAt
            messageId
            channel
            subject
            preview
            status
            statusChangedAt
            account
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

type Edge = NonNullable<CustomerInteractionsQuery['customer']>['interactions']['edges'][number];

export function InteractionsTab({
  customerId,
  channel,
  label,
}: {
  customerId: string;
  channel: Channel;
  label: string;
}) {
  const tz = useTimeZone();
  const paging = usePaging();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: INTERACTIONS,
    variables: { customerId, channel, first: paging.first, after: paging.after },
  });
  const conn = data?.customer?.interactions;
  const columns: Column<Edge>[] = [
    { key: 'sentAt', header: 'Sent on', nowrap: true, render: (e) => formatDateTime(e.node.sentAt, tz) },
    { key: 'subject', header: channel === 'SURVEY' ? 'Survey' : 'Subject', render: (e) => orDash(e.node.subject) },
    {
      key: 'preview',
      header: 'Message',
      render: (e) =>
        e.node.preview ? (
          <Text size="sm" lineClamp={2} title={e.node.preview} maw={420}>
            {e.node.preview}
          </Text>
        ) : (
          orDash(null)
        ),
    },
    { key: 'status', header: 'Status', render: (e) => <StatusBadge status={e.node.status} /> },
    {
      key: 'statusChangedAt',
      header: 'Status changed',
      nowrap: true,
      render: (e) => orDash(formatDateTime(e.node.statusChangedAt, tz)),
    },
    { key: 'account', header: 'Account', render: (e) => orDash(e.node.account) },
    { key: 'messageId', header: 'Message ID', render: (e) => <Text size="xs" c="dimmed">{e.node.messageId}</Text> },
  ];
  return (
    <DataTable
      label={`${label} interactions`}
      columns={columns}
      rows={conn?.edges}
      rowKey={(e) => e.cursor}
      fetching={fetching}
      error={error}
      onRetry={() => refetch({ requestPolicy: 'network-only' })}
      empty={`No ${label} messages.`}
      footer={<Pager paging={paging} pageInfo={conn?.pageInfo} rowCount={conn?.edges.length} fetching={fetching} />}
    />
  );
}
