import { Button, Modal, Stack, Table, Text } from '@mantine/core';
import { useSearchParams } from 'react-router';
import { DataTable, type Column } from '../../components/DataTable';
import { Action, formatInt, orDash } from '../../components/format';
import { graphql } from '../../gql';
import type { PointsRedemptionsQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { patchParams } from '../../lib/searchParams';
import { usePagedConnection } from '../../lib/usePagedConnection';

const POINTS_REDEMPTIONS = graphql(`
  query PointsRedemptions($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      points {
        redemptions(first: $first, after: $after) {
          edges {
            cursor
            node {
              redeemedAt
              pointsRedeemed
              pointsReversed
              orderId
              storeId
              source
              actionId
              actionName
              breakup {
                lotEarnedAt
                points
                expiresAt
                reason
              }
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

type Edge = NonNullable<PointsRedemptionsQuery['customer']>['points']['redemptions']['edges'][number];

/** Redemptions; "View" opens the lots each one consumed (`?breakup=<cursor>` keeps it open on reload). */
export function RedemptionsTab({ customerId }: { customerId: string }) {
  const redemptions = usePagedConnection(POINTS_REDEMPTIONS, { customerId }, (d) => d.customer?.points.redemptions);
  const tz = redemptions.timeZone;
  const [params, setParams] = useSearchParams();
  const open = redemptions.edges?.find((e) => e.cursor === params.get('breakup')) ?? null;
  const setOpen = (cursor: string | null) => setParams((p) => patchParams(p, { breakup: cursor }));

  const columns: Column<Edge>[] = [
    { key: 'redeemedAt', header: 'Redeemed on', nowrap: true, render: (e) => formatDateTime(e.node.redeemedAt, tz) },
    { key: 'points', header: 'Points redeemed', align: 'right', render: (e) => formatInt(e.node.pointsRedeemed) },
    {
      key: 'reversed',
      header: 'Points reversed',
      align: 'right',
      render: (e) => (e.node.pointsReversed ? formatInt(e.node.pointsReversed) : orDash(null)),
    },
    { key: 'action', header: 'Action', render: (e) => <Action id={e.node.actionId} name={e.node.actionName} /> },
    { key: 'orderId', header: 'Order ID', render: (e) => orDash(e.node.orderId) },
    { key: 'storeId', header: 'Store', render: (e) => orDash(e.node.storeId) },
    { key: 'source', header: 'Source', render: (e) => orDash(e.node.source) },
    {
      key: 'breakup',
      header: 'Breakup',
      render: (e) => (
        <Button
          size="compact-xs"
          variant="light"
          onClick={() => setOpen(e.cursor)}
          aria-label={`View breakup of the redemption on ${formatDateTime(e.node.redeemedAt, tz)}`}
        >
          View
        </Button>
      ),
    },
  ];

  return (
    <>
      <DataTable label="Redemptions" columns={columns} empty="No redemptions yet." {...redemptions.table} />
      <BreakupModal edge={open} timeZone={tz} onClose={() => setOpen(null)} />
    </>
  );
}

function BreakupModal({
  edge,
  timeZone,
  onClose,
}: {
  edge: Edge | null;
  timeZone: string;
  onClose: () => void;
}) {
  const node = edge?.node;
  const total = node?.breakup.reduce((sum, b) => sum + b.points, 0) ?? 0;
  return (
    <Modal
      opened={!!node}
      onClose={onClose}
      size="lg"
      title={node ? `Redemption of ${formatInt(node.pointsRedeemed)} points on ${formatDateTime(node.redeemedAt, timeZone)}` : ''}
    >
      {node && (
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            The points came from these lots, earliest expiry first.
            {node.pointsReversed > 0 &&
              ` ${formatInt(node.pointsReversed)} of them came back when the order was returned.`}
          </Text>
          <Table aria-label="Redemption breakup" withTableBorder striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Earned on</Table.Th>
                <Table.Th ta="right">Points</Table.Th>
                <Table.Th>Expires on</Table.Th>
                <Table.Th>Reason</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {node.breakup.map((b, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{formatDateTime(b.lotEarnedAt, timeZone)}</Table.Td>
                  <Table.Td ta="right">{formatInt(b.points)}</Table.Td>
                  <Table.Td>{formatDateTime(b.expiresAt, timeZone)}</Table.Td>
                  <Table.Td>{orDash(b.reason)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
            <Table.Tfoot>
              <Table.Tr>
                <Table.Th>Total</Table.Th>
                <Table.Th ta="right">{formatInt(total)}</Table.Th>
                <Table.Th colSpan={2} />
              </Table.Tr>
            </Table.Tfoot>
          </Table>
        </Stack>
      )}
    </Modal>
  );
}
