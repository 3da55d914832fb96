import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useMutation } from 'urql';
import { DataTable, type Column } from '../../components/DataTable';
import { StatusBadge, orDash } from '../../components/format';
import { errorMessage } from '../../components/States';
import { graphql } from '../../gql';
import type { CouponFieldsFragment } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { usePagedConnection } from '../../lib/usePagedConnection';

graphql(`
  fragment CouponFields on Coupon {
    id
    couponId
    code
    series
    issuedAt
    expiresAt
    status
    redeemedAt
    orderId
    storeId
    resendCount
  }
`);

const COUPONS_ISSUED = graphql(`
  query CouponsIssued($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      coupons {
        issued(first: $first, after: $after) {
          edges {
            cursor
            node {
              ...CouponFields
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

const COUPON_REDEMPTIONS = graphql(`
  query CouponRedemptions($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      coupons {
        redemptions(first: $first, after: $after) {
          edges {
            cursor
            node {
              ...CouponFields
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

const RESEND_COUPON = graphql(`
  mutation ResendCoupon($couponId: ID!) {
    resendCoupon(couponId: $couponId) {
      ...CouponFields
    }
  }
`);

type Edge = { cursor: string; node: CouponFieldsFragment };

/** Issued coupons; an active one can be sent to the member again (after a confirmation). */
export function CouponsIssuedTab({ customerId }: { customerId: string }) {
  const { timeZone: tz, table } = usePagedConnection(COUPONS_ISSUED, { customerId }, (d) => d.customer?.coupons.issued);
  const [resend, sendResend] = useMutation(RESEND_COUPON);
  const [confirming, setConfirming] = useState<CouponFieldsFragment | null>(null);

  const send = async () => {
    if (!confirming) return;
    const coupon = confirming;
    const result = await sendResend({ couponId: coupon.couponId });
    setConfirming(null);
    if (result.error) {
      notifications.show({ color: 'red', title: 'The coupon was not sent', message: errorMessage(result.error) });
    } else {
      notifications.show({
        color: 'green',
        title: 'Coupon sent again',
        message: `Coupon ${coupon.code} was sent to the member again.`,
      });
    }
  };

  const columns: Column<Edge>[] = [
    { key: 'code', header: 'Code', render: (e) => <Text ff="monospace" size="sm">{e.node.code}</Text> },
    { key: 'couponId', header: 'Coupon ID', render: (e) => e.node.couponId },
    { key: 'series', header: 'Series', render: (e) => orDash(e.node.series) },
    { key: 'issuedAt', header: 'Issued on', nowrap: true, render: (e) => formatDateTime(e.node.issuedAt, tz) },
    { key: 'expiresAt', header: 'Expires on', nowrap: true, render: (e) => orDash(formatDateTime(e.node.expiresAt, tz)) },
    { key: 'status', header: 'Status', render: (e) => <StatusBadge status={e.node.status} /> },
    { key: 'redeemedAt', header: 'Redeemed on', nowrap: true, render: (e) => orDash(formatDateTime(e.node.redeemedAt, tz)) },
    { key: 'resendCount', header: 'Resent', align: 'right', render: (e) => e.node.resendCount },
    {
      key: 'resend',
      header: 'Resend',
      render: (e) =>
        e.node.status === 'ACTIVE' ? (
          <Button
            size="compact-xs"
            variant="light"
            onClick={() => setConfirming(e.node)}
            aria-label={`Resend coupon ${e.node.code}`}
          >
            Resend
          </Button>
        ) : null,
    },
  ];

  return (
    <>
      <DataTable label="Issued coupons" columns={columns} empty="No coupons issued." {...table} />
      <Modal opened={!!confirming} onClose={() => setConfirming(null)} title="Resend coupon">
        <Stack>
          <Text size="sm">
            Send coupon <strong>{confirming?.code}</strong> to the member again? It goes by email, or by SMS
            when the member has no email address, and shows under Interactions.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(null)}>
              Cancel
            </Button>
            <Button onClick={() => void send()} loading={resend.fetching} data-autofocus>
              Send again
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

export function CouponRedemptionsTab({ customerId }: { customerId: string }) {
  const { timeZone: tz, table } = usePagedConnection(
    COUPON_REDEMPTIONS,
    { customerId },
    (d) => d.customer?.coupons.redemptions,
  );
  const columns: Column<Edge>[] = [
    { key: 'redeemedAt', header: 'Redeemed on', nowrap: true, render: (e) => formatDateTime(e.node.redeemedAt, tz) },
    { key: 'code', header: 'Code', render: (e) => <Text ff="monospace" size="sm">{e.node.code}</Text> },
    { key: 'couponId', header: 'Coupon ID', render: (e) => e.node.couponId },
    { key: 'series', header: 'Series', render: (e) => orDash(e.node.series) },
    { key: 'orderId', header: 'Order ID', render: (e) => orDash(e.node.orderId) },
    { key: 'storeId', header: 'Store', render: (e) => orDash(e.node.storeId) },
    { key: 'issuedAt', header: 'Issued on', nowrap: true, render: (e) => formatDateTime(e.node.issuedAt, tz) },
  ];
  return <DataTable label="Coupon redemptions" columns={columns} empty="No coupons redeemed." {...table} />;
}
