import { DataTable, type Column } from '../../components/DataTable';
import { SignedPoints, formatAmount, formatInt, orDash } from '../../components/format';
import { graphql } from '../../gql';
import type { CustomerTransactionsQuery, TransactionType } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';

const TRANSACTIONS = graphql(`
  query CustomerTransactions($customerId: String!, $type: TransactionType, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      transactions(type: $type, first: $first, after: $after) {
        edges {
          cursor
          node {
            occurredAt
            type
            orderId
            amount
            storeId
            source
            pointsEarned
            pointsUnrecovered
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

type Edge = NonNullable<CustomerTransactionsQuery['customer']>['transactions']['edges'][number];

export function TransactionsTab({ customerId, type }: { customerId: string; type: TransactionType }) {
  const { timeZone: tz, table } = usePagedConnection(
    TRANSACTIONS,
    { customerId, type },
    (d) => d.customer?.transactions,
  );
  const purchases = type === 'PURCHASE';
  const columns: Column<Edge>[] = [
    { key: 'occurredAt', header: 'Date', nowrap: true, render: (e) => formatDateTime(e.node.occurredAt, tz) },
    { key: 'orderId', header: 'Order ID', render: (e) => e.node.orderId },
    { key: 'amount', header: 'Amount', align: 'right', render: (e) => formatAmount(e.node.amount) },
    { key: 'storeId', header: 'Store', render: (e) => orDash(e.node.storeId) },
    { key: 'source', header: 'Source', render: (e) => orDash(e.node.source) },
    {
      key: 'points',
      header: purchases ? 'Points earned' : 'Points',
      align: 'right',
      render: (e) => (purchases ? formatInt(e.node.pointsEarned) : <SignedPoints value={e.node.pointsEarned} />),
    },
  ];
  if (!purchases) {
    columns.push({
      key: 'unrecovered',
      header: 'Points unrecovered',
      align: 'right',
      render: (e) => (e.node.pointsUnrecovered ? formatInt(e.node.pointsUnrecovered) : orDash(null)),
    });
  }
  return (
    <DataTable
      label={purchases ? 'Purchases' : 'Returns'}
      columns={columns}
      empty={purchases ? 'No purchases yet.' : 'No returns.'}
      {...table}
    />
  );
}
