import { Alert, Anchor, Button, Group, Loader, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useViewer } from '../../app/OrgProvider';
import type { InteractionReportFilter } from '../../gql/graphql';
import { JobStatusBadge } from '../exports/JobStatusBadge';
import { useExportJob } from '../exports/useExportJob';

const LAST_EMAIL = 'member360.exportEmail';

export function isEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
}

/** "Make an Excel request": the workbook is written in the background and its link emailed. */
export function ExcelRequestDialog({
  opened,
  onClose,
  filter,
  summary,
}: {
  opened: boolean;
  onClose: () => void;
  filter: InteractionReportFilter;
  summary: string;
}) {
  const viewer = useViewer();
  const [email, setEmail] = useState('');
  const [touched, setTouched] = useState(false);
  const job = useExportJob();

  useEffect(() => {
    if (opened) {
      // Pre-filled: the signed-in user's address, else the last one used in this browser.
      setEmail(viewer.email ?? window.localStorage.getItem(LAST_EMAIL) ?? '');
      setTouched(false);
      job.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [opened]);

  const valid = isEmail(email);
  const busy = job.phase === 'requesting' || job.phase === 'waiting';
  const submit = () => {
    setTouched(true);
    if (!valid) return;
    window.localStorage.setItem(LAST_EMAIL, email.trim());
    void job.start({ interactionReport: filter, delivery: 'EMAIL', email: email.trim() });
  };

  return (
    <Modal opened={opened} onClose={onClose} title="Make an Excel request" size="md">
      <Stack>
        <Text size="sm" c="dimmed">
          {summary}. The workbook is prepared in the background; a download link is emailed when it
          is ready and also listed on the{' '}
          <Anchor component={Link} to="/export-jobs" size="sm" onClick={onClose}>
            Exports
          </Anchor>{' '}
          page.
        </Text>
        {job.phase === 'idle' || (job.phase === 'failed' && !job.job) ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              submit();
            }}
          >
            <Stack>
              <TextInput
                label="Email the link to"
                type="email"
                required
                data-autofocus
                value={email}
                onChange={(e) => setEmail(e.currentTarget.value)}
                error={touched && !valid ? 'Enter a valid email address' : undefined}
              />
              {job.phase === 'failed' && (
                <Alert color="red" role="alert">
                  {job.error}
                </Alert>
              )}
              <Group justify="flex-end">
                <Button variant="default" onClick={onClose}>
                  Cancel
                </Button>
                <Button type="submit">Request Excel</Button>
              </Group>
            </Stack>
          </form>
        ) : (
          <Stack gap="xs" aria-live="polite" data-testid="export-progress">
            <Group gap="xs">
              {busy && <Loader size="xs" />}
              {job.job && <JobStatusBadge status={job.job.status} />}
              <Text size="sm">
                {job.phase === 'requesting' && 'Sending the request…'}
                {job.phase === 'waiting' &&
                  (job.job?.status === 'RUNNING' ? 'Writing the workbook…' : 'Queued; it starts shortly…')}
                {job.phase === 'succeeded' &&
                  `Done: ${job.job?.rowCount ?? 0} rows. The link was emailed to ${job.job?.email ?? email}.`}
                {job.phase === 'failed' && (job.error ?? 'The export failed.')}
              </Text>
            </Group>
            {job.phase === 'succeeded' && job.job?.downloadUrl && (
              <Anchor href={job.job.downloadUrl} download>
                Download it now
              </Anchor>
            )}
            <Group justify="flex-end">
              <Button variant={busy ? 'default' : 'filled'} onClick={onClose}>
                {busy ? 'Close (it keeps running)' : 'Close'}
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Modal>
  );
}
