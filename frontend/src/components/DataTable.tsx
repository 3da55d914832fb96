import { Box, Group, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { EmptyState, ErrorState, LoadingState } from './States';

export interface Column<Row> {
  key: string;
  header: ReactNode;
  render: (row: Row, index: number) => ReactNode;
  align?: 'left' | 'right' | 'center';
  /** Keeps short values (dates, ids) on one line. */
  nowrap?: boolean;
}

export interface DataTableProps<Row> {
  /** Names the table for screen readers (and the tests). */
  label: string;
  columns: Column<Row>[];
  rows: Row[] | undefined;
  fetching: boolean;
  error?: CombinedError;
  onRetry?: () => void;
  empty: ReactNode;
  rowKey?: (row: Row, index: number) => string;
  footer?: ReactNode;
  /** Keeps every cell on one line (wide reports scroll sideways instead of growing tall). */
  nowrap?: boolean;
}

/**
 * A table with the states every tab needs: loading (first load), error with retry, empty,
 * and stale rows dimmed while the next page loads.
 */
export function DataTable<Row>({
  label,
  columns,
  rows,
  fetching,
  error,
  onRetry,
  empty,
  rowKey,
  footer,
  nowrap,
}: DataTableProps<Row>) {
  if (error && !rows) return <ErrorState error={error} onRetry={onRetry} />;
  if (!rows) return fetching ? <LoadingState /> : <EmptyState>{empty}</EmptyState>;
  return (
    <Box>
      {error && <ErrorState error={error} onRetry={onRetry} />}
      {rows.length === 0 ? (
        <EmptyState>{empty}</EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={600} type="native">
          <Table
            aria-label={label}
            aria-busy={fetching}
            striped
            highlightOnHover
            withTableBorder
            stickyHeader
            verticalSpacing="xs"
            style={{ opacity: fetching ? 0.6 : 1, transition: 'opacity 120ms' }}
          >
            <Table.Thead>
              <Table.Tr>
                {columns.map((c) => (
                  <Table.Th key={c.key} ta={c.align} style={{ whiteSpace: 'nowrap' }} scope="col">
                    {c.header}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((row, i) => (
                <Table.Tr key={rowKey ? rowKey(row, i) : i}>
                  {columns.map((c) => (
                    <Table.Td
                      key={c.key}
                      ta={c.align}
                      style={nowrap || c.nowrap ? { whiteSpace: 'nowrap' } : undefined}
                    >
                      {c.render(row, i)}
                    </Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {footer && rows.length > 0 && (
        <Group justify="space-between" mt="xs">
          {footer}
        </Group>
      )}
    </Box>
  );
}

export function Muted({ children }: { children: ReactNode }) {
  return (
    <Text span c="dimmed" size="sm">
      {children}
    </Text>
  );
}
