import { Anchor, Button, Group, Loader, Text } from '@mantine/core';
import type { CustomerTab } from '../../gql/graphql';
import { triggerDownload } from './poll';
import { useExportJob } from './useExportJob';

/** "Download as Excel" for one customer tab: queue the export, wait for it, open the link. */
export function DownloadExcelButton({ customerId, tab }: { customerId: string; tab: CustomerTab }) {
  const exportJob = useExportJob((job) => job.downloadUrl && triggerDownload(job.downloadUrl));
  const busy = exportJob.phase === 'requesting' || exportJob.phase === 'waiting';
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="sm" c={exportJob.phase === 'failed' ? 'red' : 'dimmed'} aria-live="polite">
        {busy && (
          <Group gap={6} component="span" wrap="nowrap">
            <Loader size={12} />
            {exportJob.job?.status === 'RUNNING' ? 'Writing the workbook…' : 'Queued…'}
          </Group>
        )}
        {exportJob.phase === 'succeeded' && exportJob.job?.downloadUrl && (
          <>
            {exportJob.job.rowCount ?? 0} rows ·{' '}
            <Anchor href={exportJob.job.downloadUrl} size="sm" data-testid="export-link">
              download again
            </Anchor>
          </>
        )}
        {exportJob.phase === 'failed' && exportJob.error}
      </Text>
      <Button
        size="xs"
        variant="light"
        loading={busy}
        onClick={() => void exportJob.start({ customerTab: { customerId, tab } })}
      >
        Download as Excel
      </Button>
    </Group>
  );
}
