import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { graphql } from '../../gql';
import type { ExportJobFieldsFragment, RequestExportInput } from '../../gql/graphql';
import { errorMessage } from '../../components/States';
import { PollAborted, pollJob } from './poll';

export const EXPORT_JOB_FIELDS = graphql(`
  fragment ExportJobFields on ExportJob {
    id
    kind
    status
    delivery
    email
    rowCount
    downloadUrl
    expiresAt
    error
    attempts
    createdAt
    finishedAt
    emailedAt
  }
`);

const REQUEST_EXPORT = graphql(`
  mutation RequestExport($input: RequestExportInput!) {
    requestExport(input: $input) {
      ...ExportJobFields
    }
  }
`);

const EXPORT_JOB = graphql(`
  query ExportJob($id: ID!) {
    exportJob(id: $id) {
      ...ExportJobFields
    }
  }
`);

export type ExportJob = ExportJobFieldsFragment;

export type ExportPhase = 'idle' | 'requesting' | 'waiting' | 'succeeded' | 'failed';

export interface ExportState {
  phase: ExportPhase;
  job: ExportJob | null;
  error: string | null;
}

const IDLE: ExportState = { phase: 'idle', job: null, error: null };

/** Requests an export and follows the job until it finishes; stops polling on unmount. */
export function useExportJob(onSucceeded?: (job: ExportJob) => void) {
  const client = useClient();
  const [state, setState] = useState<ExportState>(IDLE);
  const abort = useRef<AbortController | null>(null);
  const succeeded = useRef(onSucceeded);
  succeeded.current = onSucceeded;

  useEffect(() => () => abort.current?.abort(), []);

  const start = useCallback(
    async (input: RequestExportInput) => {
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      setState({ phase: 'requesting', job: null, error: null });
      const requested = await client.mutation(REQUEST_EXPORT, { input }).toPromise();
      if (controller.signal.aborted) return;
      if (requested.error || !requested.data) {
        setState({
          phase: 'failed',
          job: null,
          error: requested.error ? errorMessage(requested.error) : 'The export was not accepted.',
        });
        return;
      }
      const id = requested.data.requestExport.id;
      setState({ phase: 'waiting', job: requested.data.requestExport, error: null });
      try {
        const job = await pollJob(
          async () => {
            const result = await client
              .query(EXPORT_JOB, { id }, { requestPolicy: 'network-only' })
              .toPromise();
            if (result.error) throw new Error(errorMessage(result.error));
            return result.data?.exportJob ?? null;
          },
          {
            signal: controller.signal,
            onUpdate: (job) => setState({ phase: 'waiting', job, error: null }),
          },
        );
        if (job.status === 'SUCCEEDED') {
          setState({ phase: 'succeeded', job, error: null });
          succeeded.current?.(job);
        } else {
          setState({ phase: 'failed', job, error: job.error ?? 'The export failed.' });
        }
      } catch (e) {
        if (e instanceof PollAborted) return;
        setState((s) => ({ phase: 'failed', job: s.job, error: (e as Error).message }));
      }
    },
    [client],
  );

  const reset = useCallback(() => {
    abort.current?.abort();
    setState(IDLE);
  }, []);

  return { ...state, start, reset };
}
