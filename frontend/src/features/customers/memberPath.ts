/**
 * A member page's address. Its own module (memberTabs re-exports it) so that pages linking to
 * members (search, the report, transfers) do not import every member tab along with it.
 */
export function memberPath(customerId: string, tab?: string, sub?: string | null): string {
  const parts = ['/customers', encodeURIComponent(customerId)];
  if (tab) parts.push(tab);
  if (tab && sub) parts.push(sub);
  return parts.join('/');
}
