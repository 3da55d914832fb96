import { fireEvent, screen } from '@testing-library/react';
import { renderPage, stubGraphQL } from '../../test/render';
import { DownloadExcelButton } from './DownloadExcelButton';
import * as poll from './poll';

const job = (status: string, downloadUrl: string | null = null) => ({
  id: 'J1',
  kind: 'CUSTOMER_TAB',
  status,
  delivery: 'DOWNLOAD',
  email: null,
  rowCount: status === 'SUCCEEDED' ? 12 : null,
  downloadUrl,
  expiresAt: null,
  error: status === 'FAILED' ? 'disk full' : null,
  attempts: 1,
  createdAt: '2024-03-04T20:00:00+05:30',
  finishedAt: null,
});

describe('Download as Excel', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('requests the tab, waits for the job and opens its link', async () => {
    const opened = vi.spyOn(poll, 'triggerDownload').mockImplementation(() => {});
    const { calls } = stubGraphQL((op) =>
      op === 'RequestExport'
        ? { requestExport: job('QUEUED') }
        : { exportJob: job('SUCCEEDED', 'http://x.test/exports/tok') },
    );
    renderPage(<DownloadExcelButton customerId="CUST-1" tab="POINTS_ACTIVITY" />, { route: '/', path: '/' });
    fireEvent.click(await screen.findByRole('button', { name: 'Download as Excel' }));
    expect(await screen.findByText(/12 rows/)).toBeInTheDocument();
    expect(opened).toHaveBeenCalledWith('http://x.test/exports/tok');
    expect(calls.find((c) => c.operationName === 'RequestExport')?.variables).toEqual({
      input: { customerTab: { customerId: 'CUST-1', tab: 'POINTS_ACTIVITY' } },
    });
  });

  it('shows why a job failed', async () => {
    stubGraphQL((op) => (op === 'RequestExport' ? { requestExport: job('QUEUED') } : { exportJob: job('FAILED') }));
    renderPage(<DownloadExcelButton customerId="CUST-1" tab="LEADS" />, { route: '/', path: '/' });
    fireEvent.click(await screen.findByRole('button', { name: 'Download as Excel' }));
    expect(await screen.findByText('disk full')).toBeInTheDocument();
  });
});
