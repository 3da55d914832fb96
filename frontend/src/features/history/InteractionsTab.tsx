import { Text } from '@mantine/core';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge, orDash } from '../../components/format';
import { graphql } from '../../gql';
import type { Channel, CustomerInteractionsQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';

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
  const { timeZone: tz, table } = usePagedConnection(
    INTERACTIONS,
    { customerId, channel },
    (d) => d.customer?.interactions,
  );
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
  return <DataTable label={`${label} interactions`} columns={columns} empty={`No ${label} messages.`} {...table} />;
}
