import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import {
  PAGE_SIZES,
  currentCursor,
  formatCursorStack,
  nextStack,
  parseCursorStack,
  parsePageSize,
  previousStack,
} from './paging';
import { patchParams } from './searchParams';

export interface Paging {
  /** The `after` argument of the current page (null on the first page). */
  after: string | null;
  /** The `first` argument. */
  first: number;
  /** 1-based page number. */
  page: number;
  sizes: readonly number[];
  next(endCursor: string): void;
  previous(): void;
  reset(): void;
  setSize(size: number): void;
}

/** Relay paging whose state lives in the URL (`after`, `size`), so links reopen the same page. */
export function usePaging(sizes: readonly number[] = PAGE_SIZES): Paging {
  const [params, setParams] = useSearchParams();
  const raw = params.get('after');
  const stack = useMemo(() => parseCursorStack(raw), [raw]);
  const first = parsePageSize(params.get('size'), sizes);

  const next = useCallback(
    (endCursor: string) =>
      setParams((p) => patchParams(p, { after: formatCursorStack(nextStack(stack, endCursor)) })),
    [setParams, stack],
  );
  const previous = useCallback(
    () => setParams((p) => patchParams(p, { after: formatCursorStack(previousStack(stack)) })),
    [setParams, stack],
  );
  const reset = useCallback(() => setParams((p) => patchParams(p, { after: null })), [setParams]);
  const setSize = useCallback(
    (size: number) =>
      setParams((p) => patchParams(p, { size: size === sizes[0] ? null : size, after: null })),
    [setParams, sizes],
  );
  return { after: currentCursor(stack), first, page: stack.length + 1, sizes, next, previous, reset, setSize };
}
