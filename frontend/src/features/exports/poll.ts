/** Waiting for an export job: poll until it succeeds or fails, backing off gently. */

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface JobLike {
  id: string;
  status: JobStatus;
}

export interface PollOptions<J> {
  onUpdate?: (job: J) => void;
  signal?: AbortSignal;
  /** First wait; each next one is 1.5x longer, up to `maxIntervalMs`. */
  intervalMs?: number;
  maxIntervalMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export class PollAborted extends Error {
  constructor() {
    super('stopped waiting for the export');
  }
}

export function isFinished(status: JobStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED';
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new PollAborted());
      },
      { once: true },
    );
  });
}

export async function pollJob<J extends JobLike>(
  fetchJob: () => Promise<J | null>,
  options: PollOptions<J> = {},
): Promise<J> {
  const {
    onUpdate,
    signal,
    intervalMs = 500,
    maxIntervalMs = 3000,
    timeoutMs = 15 * 60_000,
    sleep = defaultSleep,
    now = Date.now,
  } = options;
  const started = now();
  let wait = intervalMs;
  for (;;) {
    if (signal?.aborted) throw new PollAborted();
    const job = await fetchJob();
    if (!job) throw new Error('The export job is no longer there.');
    onUpdate?.(job);
    if (isFinished(job.status)) return job;
    if (now() - started > timeoutMs) {
      throw new Error('The export is taking long; it will appear on the Exports page when done.');
    }
    await sleep(wait, signal);
    wait = Math.min(maxIntervalMs, Math.round(wait * 1.5));
  }
}

/** Opens a signed download link: the server answers with an attachment, so the page stays. */
export function triggerDownload(url: string, doc: Document = document): void {
  const a = doc.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  a.download = '';
  doc.body.appendChild(a);
  a.click();
  a.remove();
}
