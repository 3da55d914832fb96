import { Badge, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export function formatInt(n: number | null | undefined): string {
  return n === null || n === undefined ? '' : n.toLocaleString('en-US');
}

export function formatSigned(n: number): string {
  return n > 0 ? `+${formatInt(n)}` : formatInt(n);
}

export function formatAmount(n: number | null | undefined): string {
  return n === null || n === undefined
    ? ''
    : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** Credits green, debits red, with an explicit sign so colour is never the only cue. */
export function SignedPoints({ value }: { value: number }) {
  return (
    <Text span size="sm" fw={600} c={value > 0 ? 'teal.8' : value < 0 ? 'red.8' : undefined}>
      {formatSigned(value)}
    </Text>
  );
}

export function orDash(value: ReactNode): ReactNode {
  return value === null || value === undefined || value === '' ? (
    <Text span c="dimmed" size="sm" aria-label="none">
      —
    </Text>
  ) : (
    value
  );
}

export function Action({ id, name }: { id: number; name: string }) {
  return (
    <span style={{ whiteSpace: 'nowrap' }}>
      <Text span size="xs" c="dimmed">
        {id}
      </Text>{' '}
      {name}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const color =
    {
      ACTIVE: 'green',
      REDEEMED: 'blue',
      EXPIRED: 'gray',
      DELIVERED: 'teal',
      OPENED: 'green',
      CLICKED: 'green',
      SENT: 'blue',
      FAILED: 'red',
      BOUNCED: 'red',
      DEDUCTION: 'red',
      ADDITION: 'teal',
      ADD: 'blue',
      COMBINE: 'orange',
    }[status] ?? 'gray';
  return (
    <Badge variant="light" color={color}>
      {status}
    </Badge>
  );
}
