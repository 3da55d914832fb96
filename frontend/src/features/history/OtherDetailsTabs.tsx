import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge, orDash } from '../../components/format';
import { graphql } from '../../gql';
import type { CustomerIdentifierHistoryQuery, CustomerSegmentHistoryQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';

const SEGMENT_HISTORY = graphql(`
  query CustomerSegmentHistory($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      segmentHistory(first: $first, after: $after) {
        edges {
          cursor
          node {
            changedAt
            segment
            fromPartition
            toPartition
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

const IDENTIFIER_HISTORY = graphql(`
  query CustomerIdentifierHistory($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      identifierHistory(first: $first, after: $after) {
        edges {
          cursor
          node {
            changedAt
            source
            account
            identifierType
            value
            actionType
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

export function SegmentHistoryTab({ customerId }: { customerId: string }) {
  const { timeZone: tz, table } = usePagedConnection(
    SEGMENT_HISTORY,
    { customerId },
    (d) => d.customer?.segmentHistory,
  );
  type Edge = NonNullable<CustomerSegmentHistoryQuery['customer']>['segmentHistory']['edges'][number];
  const columns: Column<Edge>[] = [
    { key: 'changedAt', header: 'Changed on', nowrap: true, render: (e) => formatDateTime(e.node.changedAt, tz) },
    { key: 'segment', header: 'Segment', render: (e) => e.node.segment },
    { key: 'from', header: 'From partition', render: (e) => orDash(e.node.fromPartition) },
    { key: 'to', header: 'To partition', render: (e) => orDash(e.node.toPartition) },
  ];
  return <DataTable label="Segment history" columns={columns} empty="No segment changes." {...table} />;
}

export function IdentifierHistoryTab({ customerId }: { customerId: string }) {
  const { timeZone: tz, table } = usePagedConnection(
    IDENTIFIER_HISTORY,
    { customerId },
    (d) => d.customer?.identifierHistory,
  );
  type Edge = NonNullable<CustomerIdentifierHistoryQuery['customer']>['identifierHistory']['edges'][number];
  const columns: Column<Edge>[] = [
    { key: 'changedAt', header: 'Changed on', nowrap: true, render: (e) => formatDateTime(e.node.changedAt, tz) },
    { key: 'type', header: 'Identifier', render: (e) => e.node.identifierType },
    { key: 'value', header: 'Value', render: (e) => e.node.value },
    { key: 'action', header: 'Action', render: (e) => <StatusBadge status={e.node.actionType} /> },
    { key: 'source', header: 'Source', render: (e) => orDash(e.node.source) },
    { key: 'account', header: 'Account', render: (e) => orDash(e.node.account) },
  ];
  return <DataTable label="Identifier change history" columns={columns} empty="No identifier changes." {...table} />;
}
