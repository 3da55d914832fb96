import { Anchor, Modal, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { useTimeZone } from '../../app/OrgProvider';
import { DataTable, type Column } from '../../components/DataTable';
import { orDash } from '../../components/format';
import { JsonFields } from '../../components/JsonFields';
import { Pager } from '../../components/Pager';
import { graphql } from '../../gql';
import type { CustomerBehavioralEventsQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { patchParams } from '../../lib/searchParams';
import { usePaging } from '../../lib/usePaging';

const BEHAVIORAL_EVENTS = graphql(`
  query CustomerBehavioralEvents($customerId: String!, $first: Int, $after: String) {
    customer(customerId: $customerId) {
      id
      behavioralEvents(first: $first, after: $after) {
        edges {
          cursor
          node {
            occurredAt
            event
            trackingId
            source
            accountId
            tillCode
            attributes
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

type Edge = NonNullable<CustomerBehavioralEventsQuery['customer']>['behavioralEvents']['edges'][number];

/** App and web events; the tracking id opens the event's details (`?event=<trackingId>`). */
export function BehavioralEventsTab({ customerId }: { customerId: string }) {
  const tz = useTimeZone();
  const paging = usePaging();
  const [params, setParams] = useSearchParams();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: BEHAVIORAL_EVENTS,
    variables: { customerId, first: paging.first, after: paging.after },
  });
  const conn = data?.customer?.behavioralEvents;
  const openId = params.get('event');
  const open = conn?.edges.find((e) => e.node.trackingId === openId)?.node ?? null;
  const setOpen = (trackingId: string | null) => setParams((p) => patchParams(p, { event: trackingId }));

  const columns: Column<Edge>[] = [
    { key: 'occurredAt', header: 'Date', nowrap: true, render: (e) => formatDateTime(e.node.occurredAt, tz) },
    { key: 'event', header: 'Event', render: (e) => e.node.event },
    {
      key: 'trackingId',
      header: 'Tracking ID',
      render: (e) => (
        <Anchor component="button" type="button" size="sm" onClick={() => setOpen(e.node.trackingId)}>
          {e.node.trackingId}
        </Anchor>
      ),
    },
    { key: 'source', header: 'Source', render: (e) => orDash(e.node.source) },
    { key: 'accountId', header: 'Account ID', render: (e) => orDash(e.node.accountId) },
    { key: 'tillCode', header: 'Till code', render: (e) => orDash(e.node.tillCode) },
  ];
  return (
    <>
      <DataTable
        label="Behavioral events"
        columns={columns}
        rows={conn?.edges}
        rowKey={(e) => e.cursor}
        fetching={fetching}
        error={error}
        onRetry={() => refetch({ requestPolicy: 'network-only' })}
        empty="No behavioral events."
        footer={<Pager paging={paging} pageInfo={conn?.pageInfo} rowCount={conn?.edges.length} fetching={fetching} />}
      />
      <Modal opened={!!open} onClose={() => setOpen(null)} title={open ? `Event ${open.event}` : ''} size="lg">
        {open && (
          <Stack gap="md">
            <SimpleGrid cols={2} spacing="sm">
              {(
                [
                  ['Tracking ID', open.trackingId],
                  ['Date', formatDateTime(open.occurredAt, tz)],
                  ['Event', open.event],
                  ['Source', open.source],
                  ['Account ID', open.accountId],
                  ['Till code', open.tillCode],
                ] as const
              ).map(([label, value]) => (
                <div key={label}>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    {label}
                  </Text>
                  <Text size="sm">{value || '—'}</Text>
                </div>
              ))}
            </SimpleGrid>
            <Title order={5}>Attributes</Title>
            <JsonFields value={open.attributes} label="Event attributes" />
          </Stack>
        )}
      </Modal>
    </>
  );
}
