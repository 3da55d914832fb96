import { useQuery, type AnyVariables, type CombinedError, type TypedDocumentNode } from 'urql';
import { useTimeZone } from '../app/OrgProvider';
import type { DataTableProps } from '../components/DataTable';
import { Pager } from '../components/Pager';
import { usePaging, type Paging } from './usePaging';

/** A Relay connection as a query selects it: a page of edges and where the next page starts. */
export interface Connection<Edge extends { cursor: string }> {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/** The paging arguments the hook fills in from the URL. */
interface PageArguments {
  first?: number | null;
  after?: string | null;
}

export interface PagedConnection<Edge extends { cursor: string }> {
  /** The organization's time zone, which every tab formats its times in. */
  timeZone: string;
  paging: Paging;
  /** The current page's edges; undefined until the first page arrives. */
  edges: Edge[] | undefined;
  fetching: boolean;
  error: CombinedError | undefined;
  /** `<DataTable {...table}>`: the rows keyed by cursor, their states, retry, and the pager under them. */
  table: Pick<DataTableProps<Edge>, 'rows' | 'rowKey' | 'fetching' | 'error' | 'onRetry' | 'footer'>;
}

const byCursor = (edge: { cursor: string }) => edge.cursor;

/**
 * One page of a connection, paged in the URL (`?after=`, `?size=`): the query runs with
 * `variables` plus `first`/`after`, and `select` picks the connection out of its result.
 */
export function usePagedConnection<
  Data,
  Variables extends AnyVariables & PageArguments,
  Edge extends { cursor: string },
>(
  query: TypedDocumentNode<Data, Variables>,
  variables: Omit<Variables, keyof PageArguments>,
  select: (data: Data) => Connection<Edge> | null | undefined,
): PagedConnection<Edge> {
  const timeZone = useTimeZone();
  const paging = usePaging();
  const [{ data, fetching, error }, refetch] = useQuery<Data, Variables>({
    query,
    // The caller's variables are the query's less the two filled in here.
    variables: { ...variables, first: paging.first, after: paging.after } as Variables,
  });
  const connection = data ? select(data) : undefined;
  const edges = connection?.edges;
  return {
    timeZone,
    paging,
    edges,
    fetching,
    error,
    table: {
      rows: edges,
      rowKey: byCursor,
      fetching,
      error,
      onRetry: () => refetch({ requestPolicy: 'network-only' }),
      footer: <Pager paging={paging} pageInfo={connection?.pageInfo} rowCount={edges?.length} fetching={fetching} />,
    },
  };
}
