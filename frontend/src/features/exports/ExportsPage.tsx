import { Anchor, Group, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useEffect } from 'react';
import { useQuery } from 'urql';
import { useTimeZone } from '../../app/OrgProvider';
import { useUser } from '../../auth/AuthProvider';
import { allows } from '../../auth/access';
import { DataTable, Muted, type Column } from '../../components/DataTable';
import { Pager } from '../../components/Pager';
import { graphql } from '../../gql';
import { formatDateTime } from '../../lib/dates';
import { usePaging } from '../../lib/usePaging';
import { JobStatusBadge } from './JobStatusBadge';
import { isFinished } from './poll';
import type { ExportJob } from './useExportJob';

const EXPORT_JOBS = graphql(`
  query ExportJobs($first: Int, $after: String) {
    exportJobs(first: $first, after: $after) {
      edges {
        cursor
        node {
          ...ExportJobFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const KIND_LABELS: Record<string, string> = {
  REPORT: 'All Interactions report',
  CUSTOMER_TAB: 'Member tab',
};

export function kindLabel(kind: string): string {
  if (KIND_LABELS[kind]) return KIND_LABELS[kind];
  const words = kind.toLowerCase().split('_');
  return words.map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w)).join(' ');
}

export function ExportsPage() {
  const tz = useTimeZone();
  const user = useUser();
  // Report workbooks are for roles that may see the report; others see that the job exists only.
  const reportsAllowed = allows(user.role, 'reports');
  const paging = usePaging();
  const [{ data, fetching, error }, refetch] = useQuery({
    query: EXPORT_JOBS,
    variables: { first: paging.first, after: paging.after },
  });
  const rows = data?.exportJobs.edges.map((e) => e.node);
  const pending = rows?.some((j) => !isFinished(j.status));

  // While a job on this page is still running, refresh every few seconds.
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), 3000);
    return () => clearInterval(timer);
  }, [pending, refetch]);

  const columns: Column<ExportJob>[] = [
    { key: 'createdAt', header: 'Requested', nowrap: true, render: (j) => formatDateTime(j.createdAt, tz) },
    { key: 'kind', header: 'What', render: (j) => kindLabel(j.kind) },
    {
      key: 'delivery',
      header: 'Delivery',
      render: (j) => (j.delivery === 'EMAIL' ? `Email to ${j.email ?? ''}` : 'Download'),
    },
    {
      key: 'status',
      header: 'Status',
      render: (j) => (
        <Group gap="xs" wrap="nowrap">
          <JobStatusBadge status={j.status} />
          {j.delivery === 'EMAIL' && j.status === 'SUCCEEDED' && !j.emailedAt ? (
            // The mail server did not take the mail yet; the server retries it.
            <Muted>email pending</Muted>
          ) : null}
        </Group>
      ),
    },
    { key: 'rows', header: 'Rows', align: 'right', render: (j) => j.rowCount ?? '' },
    { key: 'finishedAt', header: 'Finished', nowrap: true, render: (j) => formatDateTime(j.finishedAt, tz) },
    {
      key: 'link',
      header: 'Download',
      render: (j) =>
        j.kind === 'REPORT' && !reportsAllowed ? (
          <Muted>Admins only</Muted>
        ) : j.downloadUrl ? (
          <Tooltip label={`Link valid until ${formatDateTime(j.expiresAt, tz)}`}>
            <Anchor href={j.downloadUrl} download>
              Download .xlsx
            </Anchor>
          </Tooltip>
        ) : j.status === 'FAILED' ? (
          <Text size="sm" c="red">
            {j.error ?? 'Failed'}
          </Text>
        ) : j.status === 'SUCCEEDED' ? (
          <Muted>Link expired</Muted>
        ) : (
          <Muted>Not ready yet</Muted>
        ),
    },
  ];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Exports</Title>
        <Text size="sm" c="dimmed">
          Excel files requested by this organization, newest first. Links expire after a few days.
        </Text>
      </Group>
      <DataTable
        label="Export jobs"
        columns={columns}
        rows={rows}
        fetching={fetching}
        error={error}
        onRetry={() => refetch({ requestPolicy: 'network-only' })}
        empty={
          reportsAllowed
            ? 'No exports yet. Use “Download as Excel” on a member tab or “Make an Excel request” on a report.'
            : 'No exports yet. Use “Download as Excel” on a member tab.'
        }
        rowKey={(j) => j.id}
        footer={<Pager paging={paging} pageInfo={data?.exportJobs.pageInfo} rowCount={rows?.length} fetching={fetching} />}
      />
    </Stack>
  );
}
