/**
 * Relay paging kept in the URL: `after` holds the cursors of every page opened past the first,
 * comma-separated (cursors are URL-safe base64, so never contain a comma). The last one is the
 * current page's `after`; dropping it goes back a page. A pasted link reopens the same page.
 */

export const PAGE_SIZES = [20, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 20;

export function parseCursorStack(value: string | null): string[] {
  if (!value) return [];
  return value.split(',').filter((c) => c.length > 0);
}

export function formatCursorStack(stack: string[]): string | null {
  return stack.length ? stack.join(',') : null;
}

export function currentCursor(stack: string[]): string | null {
  return stack.length ? stack[stack.length - 1] : null;
}

export function nextStack(stack: string[], endCursor: string): string[] {
  return [...stack, endCursor];
}

export function previousStack(stack: string[]): string[] {
  return stack.slice(0, -1);
}

export function parsePageSize(value: string | null, allowed: readonly number[] = PAGE_SIZES): number {
  const n = Number(value);
  return allowed.includes(n) ? n : allowed[0];
}
