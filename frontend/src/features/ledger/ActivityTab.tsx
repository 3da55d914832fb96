import { Tooltip } from '@mantine/core';
import { useQuery } from 'urql';
import { DataTable, type Column } from '../../components/DataTable';
import { Action, SignedPoints, formatInt, orDash } from '../../components/format';
import { graphql } from '../../gql';
import type { PointsActivityFieldsFragment } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';
import { BalanceChart } from './BalanceChart';

const POINTS_ACTIVITY = graphql(`
  query PointsActivity($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        activity(first: $first, after: $after) {
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

const CHART_ENTRIES = 100;

const BALANCE_HISTORY = graphql(`
  query PointsBalanceHistory($customerId: String!, $first: Int) {
    customer(customerId: $customerId) {
      id
      points {
        activity(first: $first) {
          edges {
            node {
              occurredAt
              runningBalance
            }
          }
        }
      }
    }
  }
`);

type Edge = { cursor: string; node: PointsActivityFieldsFragment };

/** Every signed entry with the balance after it, and the balance over time above. */
export function ActivityTab({ customerId }: { customerId: string }) {
  const { timeZone: tz, table } = usePagedConnection(
    POINTS_ACTIVITY,
    { customerId },
    (d) => d.customer?.points.activity,
  );
  const [chart] = useQuery({ query: BALANCE_HISTORY, variables: { customerId, first: CHART_ENTRIES } });
  const columns: Column<Edge>[] = [
    { key: 'occurredAt', header: 'Date', nowrap: true, render: (e) => formatDateTime(e.node.occurredAt, tz) },
    { key: 'action', header: 'Action', render: (e) => <Action id={e.node.actionId} name={e.node.actionName} /> },
    { key: 'points', header: 'Points', align: 'right', render: (e) => <SignedPoints value={e.node.points} /> },
    {
      key: 'balance',
      header: 'Running balance',
      align: 'right',
      render: (e) => <strong>{formatInt(e.node.runningBalance)}</strong>,
    },
    {
      key: 'reason',
      header: 'Reason',
      render: (e) =>
        e.node.pointsUnrecovered ? (
          <Tooltip label="The balance could not cover the whole reversal">
            <span>
              {e.node.reason ?? ''} ({formatInt(e.node.pointsUnrecovered)} unrecovered)
            </span>
          </Tooltip>
        ) : (
          orDash(e.node.reason)
        ),
    },
    { key: 'orderId', header: 'Order ID', render: (e) => orDash(e.node.orderId) },
    { key: 'storeId', header: 'Store', render: (e) => orDash(e.node.storeId) },
    { key: 'source', header: 'Source', render: (e) => orDash(e.node.source) },
    { key: 'expiresAt', header: 'Expires on', nowrap: true, render: (e) => orDash(formatDateTime(e.node.expiresAt, tz)) },
  ];
  const chartRows = chart.data?.customer?.points.activity.edges.map((e) => e.node);
  return (
    <>
      {chartRows && chartRows.length > 1 && <BalanceChart activity={chartRows} timeZone={tz} />}
      <DataTable label="All activity" columns={columns} empty="No points activity yet." {...table} />
    </>
  );
}
