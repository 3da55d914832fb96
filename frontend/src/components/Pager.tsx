import { Button, Group, NativeSelect, Text } from '@mantine/core';
import type { Paging } from '../lib/usePaging';

interface PagerProps {
  paging: Paging;
  pageInfo?: { hasNextPage: boolean; endCursor?: string | null } | null;
  rowCount?: number;
  fetching?: boolean;
}

/** First / Previous / Next over a Relay connection, with the page size; state in the URL. */
export function Pager({ paging, pageInfo, rowCount, fetching }: PagerProps) {
  const canNext = !!pageInfo?.hasNextPage && !!pageInfo.endCursor;
  return (
    <Group justify="space-between" w="100%" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" aria-live="polite">
        Page {paging.page}
        {rowCount !== undefined ? ` · ${rowCount} row${rowCount === 1 ? '' : 's'} shown` : ''}
      </Text>
      <Group gap="xs" component="nav" aria-label="Pages">
        <NativeSelect
          aria-label="Rows per page"
          size="xs"
          data={paging.sizes.map((s) => ({ value: String(s), label: `${s} per page` }))}
          value={String(paging.first)}
          onChange={(e) => paging.setSize(Number(e.currentTarget.value))}
        />
        <Button size="xs" variant="default" disabled={paging.page === 1} onClick={paging.reset}>
          First
        </Button>
        <Button size="xs" variant="default" disabled={paging.page === 1} onClick={paging.previous}>
          Previous
        </Button>
        <Button
          size="xs"
          variant="default"
          disabled={!canNext || fetching}
          onClick={() => pageInfo?.endCursor && paging.next(pageInfo.endCursor)}
        >
          Next
        </Button>
      </Group>
    </Group>
  );
}
