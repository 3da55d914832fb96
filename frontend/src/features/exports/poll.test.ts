import { PollAborted, pollJob, triggerDownload, type JobStatus } from './poll';

function jobs(...statuses: JobStatus[]) {
  let i = 0;
  return vi.fn(async () => ({ id: 'J1', status: statuses[Math.min(i++, statuses.length - 1)] }));
}

describe('waiting for an export job', () => {
  it('polls until the job succeeds, backing off', async () => {
    const fetchJob = jobs('QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED');
    const waits: number[] = [];
    const seen: JobStatus[] = [];
    const job = await pollJob(fetchJob, {
      sleep: async (ms) => void waits.push(ms),
      onUpdate: (j) => seen.push(j.status),
      intervalMs: 500,
      maxIntervalMs: 1000,
    });
    expect(job.status).toBe('SUCCEEDED');
    expect(seen).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(waits).toEqual([500, 750, 1000]);
  });

  it('returns a failed job as it is', async () => {
    const job = await pollJob(jobs('FAILED'), { sleep: async () => {} });
    expect(job.status).toBe('FAILED');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(pollJob(jobs('QUEUED'), { signal: controller.signal })).rejects.toBeInstanceOf(PollAborted);
  });

  it('gives up after the timeout', async () => {
    let now = 0;
    const promise = pollJob(jobs('QUEUED'), {
      sleep: async (ms) => void (now += ms),
      now: () => now,
      timeoutMs: 2000,
    });
    await expect(promise).rejects.toThrow(/Exports page/);
  });

  it('fails when the job vanished', async () => {
    await expect(pollJob(async () => null)).rejects.toThrow(/no longer there/);
  });

  it('opens a download through a temporary link', () => {
    const clicked: string[] = [];
    const spy = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.href);
    });
    triggerDownload('http://x.test/exports/tok');
    expect(clicked).toEqual(['http://x.test/exports/tok']);
    expect(document.querySelectorAll('a').length).toBe(0);
    spy.mockRestore();
  });
});
