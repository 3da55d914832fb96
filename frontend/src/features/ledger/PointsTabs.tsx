import { Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { DataTable, type Column } from '../../components/DataTable';
import { Action, SignedPoints, StatusBadge, formatInt, orDash } from '../../components/format';
import { graphql } from '../../gql';
import type {
  PointsActivityFieldsFragment,
  PointsExpiredQuery,
  PointsTierHistoryQuery,
  PointsTransfersQuery,
} from '../../gql/graphql';
import { formatDate, formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';
import { memberPath } from '../customers/memberPath';

export const POINTS_ACTIVITY_FIELDS = graphql(`
  fragment PointsActivityFields on PointsActivity {
    occurredAt
    actionId
    actionName
    points
    runningBalance
    orderId
    customId
    reason
    source
    storeId
    category
    campaignId
    trackerValue
    expiresAt
    pointsUnrecovered
    transferId
  }
`);

type Props = { customerId: string };

const EXPIRY_SCHEDULE = graphql(`
  query PointsExpirySchedule($customerId: String!) {
    customer(customerId: $customerId) {
      id
      points {
        expirySchedule {
          expiresOn
          points
        }
      }
    }
  }
`);

/** Points still to expire, by day: the whole schedule (it is short), so no paging. */
export function ExpiryScheduleTab({ customerId }: Props) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: EXPIRY_SCHEDULE, variables: { customerId } });
  const rows = data?.customer?.points.expirySchedule;
  const total = rows?.reduce((s, r) => s + r.points, 0) ?? 0;
  return (
    <DataTable
      label="Expiry schedule"
      columns={[
        { key: 'expiresOn', header: 'Expires on', render: (r) => formatDate(r.expiresOn) },
        { key: 'points', header: 'Points', align: 'right', render: (r) => formatInt(r.points) },
      ]}
      rows={rows}
      rowKey={(r) => r.expiresOn}
      fetching={fetching}
      error={error}
      onRetry={() => refetch({ requestPolicy: 'network-only' })}
      empty="No points are due to expire."
      footer={
        rows?.length ? (
          <Text size="sm" c="dimmed">
            {formatInt(total)} points expire over {rows.length} day{rows.length === 1 ? '' : 's'}.
          </Text>
        ) : undefined
      }
    />
  );
}

const EXPIRED = graphql(`
  query PointsExpired($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        expired(first: $first, after: $after) {
          edges {
            cursor
            node {
              expiredAt
              points
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

export function ExpiredTab({ customerId }: Props) {
  const { timeZone: tz, table } = usePagedConnection(EXPIRED, { customerId }, (d) => d.customer?.points.expired);
  type Row = NonNullable<PointsExpiredQuery['customer']>['points']['expired']['edges'][number];
  const columns: Column<Row>[] = [
    { key: 'expiredAt', header: 'Expired on', render: (e) => formatDateTime(e.node.expiredAt, tz) },
    { key: 'points', header: 'Points', align: 'right', render: (e) => formatInt(e.node.points) },
  ];
  return <DataTable label="Expired points" columns={columns} empty="No points have expired." {...table} />;
}

const TIER_HISTORY = graphql(`
  query PointsTierHistory($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        tierHistory(first: $first, after: $after) {
          edges {
            cursor
            node {
              changedAt
              fromTier
              toTier
              reason
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

export function TierHistoryTab({ customerId }: Props) {
  const { timeZone: tz, table } = usePagedConnection(
    TIER_HISTORY,
    { customerId },
    (d) => d.customer?.points.tierHistory,
  );
  type Row = NonNullable<PointsTierHistoryQuery['customer']>['points']['tierHistory']['edges'][number];
  const columns: Column<Row>[] = [
    { key: 'changedAt', header: 'Changed on', nowrap: true, render: (e) => formatDateTime(e.node.changedAt, tz) },
    { key: 'fromTier', header: 'From tier', render: (e) => orDash(e.node.fromTier) },
    { key: 'toTier', header: 'To tier', render: (e) => e.node.toTier },
    { key: 'reason', header: 'Reason', render: (e) => orDash(e.node.reason) },
  ];
  return <DataTable label="Tier history" columns={columns} empty="The member's tier has never changed." {...table} />;
}

const PROMOTIONS = graphql(`
  query PointsPromotions($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        promotions(first: $first, after: $after) {
          edges {
            cursor
            node {
              ...PointsActivityFields
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

const LOYALTY_TRACKER = graphql(`
  query PointsLoyaltyTracker($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        loyaltyTracker(first: $first, after: $after) {
          edges {
            cursor
            node {
              ...PointsActivityFields
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

type ActivityEdge = { cursor: string; node: PointsActivityFieldsFragment };

function creditColumns(tz: string, tracker: boolean): Column<ActivityEdge>[] {
  const cols: Column<ActivityEdge>[] = [
    { key: 'occurredAt', header: 'Date', nowrap: true, render: (e) => formatDateTime(e.node.occurredAt, tz) },
    { key: 'action', header: 'Action', render: (e) => <Action id={e.node.actionId} name={e.node.actionName} /> },
    { key: 'points', header: 'Points', align: 'right', render: (e) => <SignedPoints value={e.node.points} /> },
  ];
  if (tracker) {
    cols.push({ key: 'tracker', header: 'Tracker value', align: 'right', render: (e) => orDash(e.node.trackerValue) });
  } else {
    cols.push({ key: 'campaign', header: 'Campaign', render: (e) => orDash(e.node.campaignId) });
  }
  cols.push(
    { key: 'reason', header: 'Reason', render: (e) => orDash(e.node.reason) },
    { key: 'orderId', header: 'Order ID', render: (e) => orDash(e.node.orderId) },
    { key: 'storeId', header: 'Store', render: (e) => orDash(e.node.storeId) },
    { key: 'source', header: 'Source', render: (e) => orDash(e.node.source) },
    { key: 'expiresAt', header: 'Expires on', nowrap: true, render: (e) => orDash(formatDateTime(e.node.expiresAt, tz)) },
  );
  return cols;
}

export function PromotionsTab({ customerId }: Props) {
  const { timeZone: tz, table } = usePagedConnection(PROMOTIONS, { customerId }, (d) => d.customer?.points.promotions);
  return (
    <DataTable label="Promotions" columns={creditColumns(tz, false)} empty="No promotion points yet." {...table} />
  );
}

export function LoyaltyTrackerTab({ customerId }: Props) {
  const { timeZone: tz, table } = usePagedConnection(
    LOYALTY_TRACKER,
    { customerId },
    (d) => d.customer?.points.loyaltyTracker,
  );
  return (
    <DataTable
      label="Loyalty tracker"
      columns={creditColumns(tz, true)}
      empty="No loyalty tracker points yet."
      {...table}
    />
  );
}

const TRANSFERS = graphql(`
  query PointsTransfers($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        transfers(first: $first, after: $after) {
          edges {
            cursor
            node {
              transferredAt
              transferType
              transferId
              fromCustomerId
              toCustomerId
              program
              points
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

function MemberLink({ id }: { id: string | null | undefined }) {
  return id ? (
    <Anchor component={Link} to={memberPath(id)} size="sm">
      {id}
    </Anchor>
  ) : (
    orDash(null)
  );
}

export function TransfersTab({ customerId }: Props) {
  const { timeZone: tz, table } = usePagedConnection(TRANSFERS, { customerId }, (d) => d.customer?.points.transfers);
  type Row = NonNullable<PointsTransfersQuery['customer']>['points']['transfers']['edges'][number];
  const columns: Column<Row>[] = [
    { key: 'transferredAt', header: 'Date', nowrap: true, render: (e) => formatDateTime(e.node.transferredAt, tz) },
    { key: 'type', header: 'Type', render: (e) => <StatusBadge status={e.node.transferType} /> },
    { key: 'transferId', header: 'Transfer ID', render: (e) => e.node.transferId },
    { key: 'from', header: 'From', render: (e) => <MemberLink id={e.node.fromCustomerId} /> },
    { key: 'to', header: 'To', render: (e) => <MemberLink id={e.node.toCustomerId} /> },
    { key: 'program', header: 'Program', render: (e) => orDash(e.node.program) },
    {
      key: 'points',
      header: 'Points',
      align: 'right',
      render: (e) => <SignedPoints value={e.node.transferType === 'DEDUCTION' ? -e.node.points : e.node.points} />,
    },
  ];
  return <DataTable label="Transfers" columns={columns} empty="No points transfers." {...table} />;
}
