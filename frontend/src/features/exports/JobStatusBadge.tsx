import { Badge } from '@mantine/core';
import type { JobStatus } from './poll';

const COLORS: Record<JobStatus, string> = {
  QUEUED: 'gray',
  RUNNING: 'blue',
  SUCCEEDED: 'green',
  FAILED: 'red',
};

const LABELS: Record<JobStatus, string> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  SUCCEEDED: 'Ready',
  FAILED: 'Failed',
};

export function JobStatusBadge({ status }: { status: JobStatus }) {
  return (
    <Badge color={COLORS[status]} variant="light" data-status={status}>
      {LABELS[status]}
    </Badge>
  );
}
