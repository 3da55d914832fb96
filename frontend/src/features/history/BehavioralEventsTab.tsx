import { Anchor, Modal, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useSearchParams } from 'react-router';
import { DataTable, type Column } from '../../components/DataTable';
import { orDash } from '../../components/format';
import { JsonFields } from '../../components/JsonFields';
import { graphql } from '../../gql';
import type { CustomerBehavioralEventsQuery } from '../../gql/graphql';
import { formatDateTime } from '../../lib/dates';
import { patchParams } from '../../lib/searchParams';
import { usePagedConnection } from '../../lib/usePagedConnection';

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
  const events = usePagedConnection(BEHAVIORAL_EVENTS, { customerId }, (d) => d.customer?.behavioralEvents);
  const tz = events.timeZone;
  const [params, setParams] = useSearchParams();
  const openId = params.get('event');
  const open = events.edges?.find((e) => e.node.trackingId === openId)?.node ?? null;
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
      <DataTable label="Behavioral events" columns={columns} empty="No behavioral events." {...events.table} />
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
