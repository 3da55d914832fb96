import {
  Autocomplete,
  Button,
  Collapse,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { useOrg, useViewer } from '../../app/OrgProvider';
import { DataTable } from '../../components/DataTable';
import { formatInt } from '../../components/format';
import { Pager } from '../../components/Pager';
import { graphql } from '../../gql';
import { addDays, formatDate, todayInZone, zoneLabel } from '../../lib/dates';
import { patchParams } from '../../lib/searchParams';
import { usePaging } from '../../lib/usePaging';
import { ExcelRequestDialog } from './ExcelRequestDialog';
import {
  filterFromParams,
  filterToParams,
  moreFilterCount,
  toApiFilter,
  type ReportFilterState,
  type TextFilter,
} from './reportFilter';
import { reportColumns } from './reportColumns';

graphql(`
  fragment InteractionReportRowFields on InteractionReportRow {
    date
    name
    userId
    email
    actionId
    actionName
    orderId
    customId
    coupon
    points
    groupPoints
    pointsExpirationDate
    sectionId
    sectionName
    surveyId
    surveyName
    reason
    source
    optInStatus
    senderId
    receiverId
    storeId
    storeName
    storeRegion
    storeType
    phoneNumber
    userRole
  }
`);

const INTERACTION_REPORT = graphql(`
  query InteractionReport($filter: InteractionReportFilter!, $first: Int, $after: String) {
    interactionReport(filter: $filter, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...InteractionReportRowFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

// Totals depend on the filter only, so they are asked for once and kept while paging.
const INTERACTION_REPORT_TOTALS = graphql(`
  query InteractionReportTotals($filter: InteractionReportFilter!) {
    interactionReport(filter: $filter) {
      totalCount
      totals {
        points
      }
    }
  }
`);

const REPORT_PAGE_SIZES = [50, 100, 200] as const;

/** Reports > All Interactions: `/reports/interactions?from=…&to=…&actionId=…&after=…`. */
export function InteractionReportPage() {
  const org = useOrg();
  const viewer = useViewer();
  const [params, setParams] = useSearchParams();
  const today = todayInZone(org.timeZone);
  const applied = useMemo(() => filterFromParams(params, today), [params, today]);
  const [draft, setDraft] = useState<ReportFilterState>(applied);
  const [moreOpen, setMoreOpen] = useState(() => moreFilterCount(applied) > 0);
  const [requestOpen, setRequestOpen] = useState(false);
  const paging = usePaging(REPORT_PAGE_SIZES);
  const filter = useMemo(() => toApiFilter(applied), [applied]);
  const canSeeEmail = viewer.scopes.includes('pii:read');

  useEffect(() => setDraft(applied), [applied]);
  useEffect(() => {
    document.title = 'All Interactions · Member360';
  }, []);

  const [{ data, fetching, error }, refetch] = useQuery({
    query: INTERACTION_REPORT,
    variables: { filter, first: paging.first, after: paging.after },
  });
  const [totals] = useQuery({ query: INTERACTION_REPORT_TOTALS, variables: { filter } });
  const conn = data?.interactionReport;
  const columns = reportColumns(org.features);

  const apply = (state: ReportFilterState) => setParams((p) => patchParams(p, filterToParams(state)));
  const setText = (key: TextFilter, value: string) =>
    setDraft((d) => ({ ...d, text: { ...d.text, [key]: value } }));
  const moreCount = moreFilterCount(applied);
  const summary = `All Interactions from ${formatDate(applied.from)} to ${formatDate(applied.to)}${
    moreCount ? ` with ${moreCount} more filter${moreCount === 1 ? '' : 's'}` : ''
  }`;
  const presets = [
    { value: [today, today] as [string, string], label: 'Today' },
    { value: [addDays(today, -6), today] as [string, string], label: 'Last 7 days' },
    { value: [addDays(today, -29), today] as [string, string], label: 'Last 30 days' },
    { value: [addDays(today, -89), today] as [string, string], label: 'Last 90 days' },
    { value: [addDays(today, -364), today] as [string, string], label: 'Last 365 days' },
  ];

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>All Interactions</Title>
          <Text size="sm" c="dimmed">
            One row per member, action, order and day. Days are in {zoneLabel(org.timeZone)}.
          </Text>
        </div>
        <Button onClick={() => setRequestOpen(true)} variant="filled">
          Make an Excel request
        </Button>
      </Group>

      <Paper withBorder p="md" radius="md" component="section" aria-label="Report filters">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            apply(draft);
          }}
        >
          <Stack gap="sm">
            <Group align="flex-end" wrap="wrap">
              <DatePickerInput
                type="range"
                label="Date range"
                w={300}
                value={[draft.from, draft.to]}
                onChange={([from, to]) => {
                  if (from && to) {
                    const next = { ...draft, from, to };
                    setDraft(next);
                    apply(next);
                  } else {
                    setDraft((d) => ({ ...d, from: from ?? d.from }));
                  }
                }}
                presets={presets}
                maxDate={today}
                valueFormat="DD MMM YYYY"
                allowSingleDateInRange
                data-testid="date-range"
              />
              <Button
                variant="default"
                onClick={() => setMoreOpen((o) => !o)}
                aria-expanded={moreOpen}
                aria-controls="more-filters"
              >
                {moreOpen ? 'Fewer filters' : 'More'}
                {moreCount ? ` (${moreCount})` : ''}
              </Button>
              <Button type="submit">Apply</Button>
              {moreCount > 0 && (
                <Button
                  variant="subtle"
                  onClick={() =>
                    apply({
                      ...applied,
                      actionId: null,
                      text: { name: '', email: '', orderId: '', storeId: '', coupon: '', source: '', contentText: '' },
                    })
                  }
                >
                  Clear filters
                </Button>
              )}
            </Group>
            <Collapse expanded={moreOpen} id="more-filters">
              <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm">
                <TextInput label="Name" value={draft.text.name} onChange={(e) => setText('name', e.currentTarget.value)} />
                <TextInput
                  label="Email"
                  value={draft.text.email}
                  disabled={!canSeeEmail}
                  description={canSeeEmail ? undefined : 'Needs the pii:read scope'}
                  onChange={(e) => setText('email', e.currentTarget.value)}
                />
                <TextInput label="Order ID" value={draft.text.orderId} onChange={(e) => setText('orderId', e.currentTarget.value)} />
                <Select
                  label="Action"
                  placeholder="Any action"
                  searchable
                  clearable
                  data={org.actions.map((a) => ({ value: String(a.id), label: `${a.id} - ${a.name}` }))}
                  value={draft.actionId === null ? null : String(draft.actionId)}
                  onChange={(v) => setDraft((d) => ({ ...d, actionId: v === null ? null : Number(v) }))}
                />
                <Autocomplete
                  label="Store ID"
                  data={org.stores.map((s) => s.storeId)}
                  value={draft.text.storeId}
                  onChange={(v) => setText('storeId', v)}
                  limit={20}
                />
                <TextInput label="Coupon" value={draft.text.coupon} onChange={(e) => setText('coupon', e.currentTarget.value)} />
                <Autocomplete
                  label="Source"
                  data={org.sources ?? []}
                  value={draft.text.source}
                  onChange={(v) => setText('source', v)}
                  limit={20}
                />
                <TextInput
                  label="Content Text"
                  description="Anywhere in the row's text"
                  value={draft.text.contentText}
                  onChange={(e) => setText('contentText', e.currentTarget.value)}
                />
              </SimpleGrid>
            </Collapse>
          </Stack>
        </form>
      </Paper>

      <Group gap="xl" aria-live="polite" data-testid="report-totals">
        <Text size="sm">
          <Text span c="dimmed">
            Rows:{' '}
          </Text>
          <strong>{totals.data ? formatInt(totals.data.interactionReport.totalCount) : totals.fetching ? '…' : '—'}</strong>
        </Text>
        <Text size="sm">
          <Text span c="dimmed">
            Total points:{' '}
          </Text>
          <strong>{totals.data ? formatInt(totals.data.interactionReport.totals.points) : totals.fetching ? '…' : '—'}</strong>
        </Text>
        <Text size="sm" c="dimmed">
          {summary}
        </Text>
      </Group>

      <DataTable
        label="All Interactions"
        nowrap
        columns={columns}
        rows={conn?.edges.map((e) => e.node)}
        rowKey={(_, i) => `${conn?.edges[i].cursor}`}
        fetching={fetching}
        error={error}
        onRetry={() => refetch({ requestPolicy: 'network-only' })}
        empty="No interactions match these filters. Widen the date range or clear a filter."
        footer={<Pager paging={paging} pageInfo={conn?.pageInfo} rowCount={conn?.edges.length} fetching={fetching} />}
      />
      <ExcelRequestDialog opened={requestOpen} onClose={() => setRequestOpen(false)} filter={filter} summary={summary} />
    </Stack>
  );
}
