import { screen, within } from '@testing-library/react';
import { AGENT, ADMIN, renderPage, stubGraphQL } from '../../test/render';
import { ExportsPage } from './ExportsPage';

function job(id: string, kind: string) {
  return {
    id,
    kind,
    status: 'SUCCEEDED',
    delivery: 'DOWNLOAD',
    email: null,
    rowCount: 3,
    downloadUrl: `/exports/${id}-token`,
    expiresAt: '2030-01-01T00:00:00+05:30',
    error: null,
    attempts: 1,
    createdAt: '2024-03-05T10:00:00+05:30',
    finishedAt: '2024-03-05T10:00:05+05:30',
    emailedAt: null as string | null,
  };
}

const JOBS = {
  exportJobs: {
    edges: [
      { cursor: 'a', node: job('J1', 'REPORT') },
      { cursor: 'b', node: job('J2', 'CUSTOMER_TAB') },
    ],
    pageInfo: { hasNextPage: false, endCursor: 'b' },
  },
};

function linkIn(rowText: string) {
  const row = within(screen.getByRole('table', { name: 'Export jobs' }))
    .getAllByRole('row')
    .find((r) => r.textContent?.includes(rowText));
  return row ? within(row).queryByRole('link', { name: 'Download .xlsx' }) : undefined;
}

describe('Exports by role', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('an ADMIN gets every link', async () => {
    stubGraphQL(() => JOBS);
    renderPage(<ExportsPage />, { route: '/export-jobs', path: '/export-jobs', user: ADMIN });
    await screen.findByText('All Interactions report');
    expect(linkIn('All Interactions report')).toHaveAttribute('href', '/exports/J1-token');
    expect(linkIn('Member tab')).toHaveAttribute('href', '/exports/J2-token');
  });

  it("an AGENT gets member-tab links but not the report's workbook", async () => {
    stubGraphQL(() => JOBS);
    renderPage(<ExportsPage />, { route: '/export-jobs', path: '/export-jobs', user: AGENT });
    await screen.findByText('All Interactions report');
    expect(linkIn('All Interactions report')).toBeNull();
    expect(screen.getByText('Admins only')).toBeInTheDocument();
    expect(linkIn('Member tab')).toHaveAttribute('href', '/exports/J2-token');
  });
});

describe('Email delivery', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('says when the mail of a finished job is still pending', async () => {
    const pending = { ...job('J3', 'CUSTOMER_TAB'), delivery: 'EMAIL', email: 'ops@example.com' };
    const sent = { ...pending, id: 'J4', emailedAt: '2024-03-05T10:01:00+05:30' };
    stubGraphQL(() => ({
      exportJobs: {
        edges: [
          { cursor: 'a', node: pending },
          { cursor: 'b', node: sent },
        ],
        pageInfo: { hasNextPage: false, endCursor: 'b' },
      },
    }));
    renderPage(<ExportsPage />, { route: '/export-jobs', path: '/export-jobs', user: ADMIN });
    await screen.findAllByText('Member tab');
    expect(screen.getAllByText('email pending')).toHaveLength(1);
  });
});
