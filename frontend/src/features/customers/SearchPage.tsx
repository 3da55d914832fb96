import { Anchor, Badge, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue, useHotkeys } from '@mantine/hooks';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { DataTable, Muted, type Column } from '../../components/DataTable';
import { Pager } from '../../components/Pager';
import { graphql } from '../../gql';
import type { CustomerSearchQuery } from '../../gql/graphql';
import { patchParams } from '../../lib/searchParams';
import { usePaging } from '../../lib/usePaging';
import { memberPath } from './memberPath';

const CUSTOMER_SEARCH = graphql(`
  query CustomerSearch($search: String!, $first: Int, $after: String) {
    customers(search: $search, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          customerId
          name
          email
          mobile
          externalId
          tier
          optedIn
          pointsBalance
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

type Result = CustomerSearchQuery['customers']['edges'][number]['node'];

export const MIN_SEARCH_LENGTH = 2;
export const SEARCH_DEBOUNCE_MS = 250;

/** Moves focus between result links with the arrow keys (Enter opens the focused member). */
export function moveFocus(event: KeyboardEvent<HTMLElement>, container: HTMLElement | null) {
  if (!container || (event.key !== 'ArrowDown' && event.key !== 'ArrowUp')) return;
  const links = Array.from(container.querySelectorAll<HTMLElement>('[data-result-link]'));
  if (!links.length) return;
  event.preventDefault();
  const at = links.indexOf(document.activeElement as HTMLElement);
  const next =
    event.key === 'ArrowDown' ? Math.min(links.length - 1, at + 1) : at <= 0 ? -1 : at - 1;
  if (next === -1) {
    container.ownerDocument.querySelector<HTMLInputElement>('[data-search-input]')?.focus();
  } else {
    links[next].focus();
  }
}

export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [text, setText] = useState(q);
  const [debounced] = useDebouncedValue(text, SEARCH_DEBOUNCE_MS);
  const input = useRef<HTMLInputElement>(null);
  const results = useRef<HTMLDivElement>(null);
  const paging = usePaging();
  useHotkeys([['/', () => input.current?.focus()]]);

  // The URL follows the (debounced) text, so the search is shareable and survives a reload.
  useEffect(() => {
    if (debounced.trim() !== q) {
      setParams((p) => patchParams(p, { q: debounced.trim() || null, after: null }), { replace: true });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);
  // ...and the text follows the URL on back/forward.
  useEffect(() => {
    if (q !== debounced.trim()) setText(q);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);

  const active = q.length >= MIN_SEARCH_LENGTH;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: CUSTOMER_SEARCH,
    variables: { search: q, first: paging.first, after: paging.after },
    pause: !active,
  });
  const rows = active ? data?.customers.edges.map((e) => e.node) : undefined;

  const columns: Column<Result>[] = [
    {
      key: 'name',
      header: 'Name',
      render: (m) => (
        <Anchor component={Link} to={memberPath(m.customerId)} data-result-link fw={500}>
          {m.name}
        </Anchor>
      ),
    },
    { key: 'customerId', header: 'Customer ID', nowrap: true, render: (m) => m.customerId },
    { key: 'mobile', header: 'Mobile', nowrap: true, render: (m) => m.mobile ?? <Muted>—</Muted> },
    { key: 'email', header: 'Email', render: (m) => m.email ?? <Muted>—</Muted> },
    { key: 'externalId', header: 'External ID', render: (m) => m.externalId ?? <Muted>—</Muted> },
    { key: 'tier', header: 'Tier', render: (m) => (m.tier ? <Badge variant="light">{m.tier}</Badge> : '') },
    {
      key: 'balance',
      header: 'Points balance',
      align: 'right',
      render: (m) => m.pointsBalance.toLocaleString('en-US'),
    },
  ];

  return (
    <Stack>
      <Title order={2}>Find a member</Title>
      <TextInput
        ref={input}
        data-search-input
        size="md"
        autoFocus
        label="Name, mobile, email, customer ID or external ID"
        description="Results appear as you type. Press ↓ to move into the results, Enter to open one; / comes back here."
        placeholder="e.g. Sharma, 9800000012, priya@example.com"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => moveFocus(e, results.current)}
        type="search"
        aria-controls="search-results"
      />
      <div id="search-results" ref={results} onKeyDown={(e) => moveFocus(e, results.current)}>
        {!active ? (
          <Text c="dimmed" py="md">
            {q.length ? `Type at least ${MIN_SEARCH_LENGTH} characters.` : 'Start typing to search the members of your program.'}
          </Text>
        ) : (
          <DataTable
            label="Members found"
            columns={columns}
            rows={rows}
            fetching={fetching}
            error={error}
            onRetry={() => refetch({ requestPolicy: 'network-only' })}
            empty={
              <>
                No member matches “{q}”. Names match in part; mobile, email and ids must match exactly.
              </>
            }
            rowKey={(m) => m.id}
            footer={
              <Pager paging={paging} pageInfo={data?.customers.pageInfo} rowCount={rows?.length} fetching={fetching} />
            }
          />
        )}
      </div>

    </Stack>
  );
}
