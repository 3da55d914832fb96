import { fireEvent, screen, within } from '@testing-library/react';
import { currentLocation, renderPage, stubGraphQL } from '../../test/render';
import { RedemptionsTab } from './RedemptionsTab';

const page = (hasNextPage: boolean, cursor: string, orderId: string) => ({
  customer: {
    id: 'C1',
    points: {
      redemptions: {
        edges: [
          {
            cursor,
            node: {
              redeemedAt: '2024-03-04T20:00:00+05:30',
              pointsRedeemed: 300,
              pointsReversed: 100,
              orderId,
              storeId: 'ST-1',
              source: 'POS',
              actionId: 102,
              actionName: 'Redemption',
              breakup: [
                { lotEarnedAt: '2024-01-01T10:00:00+05:30', points: 200, expiresAt: '2025-01-01T10:00:00+05:30', reason: 'Welcome' },
                { lotEarnedAt: '2024-02-01T10:00:00+05:30', points: 100, expiresAt: '2025-02-01T10:00:00+05:30', reason: null },
              ],
            },
          },
        ],
        pageInfo: { hasNextPage, endCursor: cursor },
      },
    },
  },
});

describe('Points > Redemptions', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('opens the breakup from the URL and closes it back into the URL', async () => {
    stubGraphQL(() => page(false, 'r1', 'ORD-1'));
    renderPage(<RedemptionsTab customerId="CUST-1" />, { route: '/m?breakup=r1', path: '/m' });
    const dialog = await screen.findByRole('dialog');
    const breakup = within(dialog).getByRole('table', { name: 'Redemption breakup' });
    expect(within(breakup).getAllByRole('row')).toHaveLength(4); // header, two lots, total
    expect(within(dialog).getByText(/100 of them came back/)).toBeInTheDocument();
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await vi.waitFor(() => expect(currentLocation).toBe('/m'));
  });

  it('pages with the cursor in the URL', async () => {
    const { calls } = stubGraphQL((_, v) => (v.after ? page(false, 'r2', 'ORD-2') : page(true, 'r1', 'ORD-1')));
    renderPage(<RedemptionsTab customerId="CUST-1" />, { route: '/m', path: '/m' });
    expect(await screen.findByText('ORD-1')).toBeInTheDocument();
    // Dates show in the org's zone (the test org is in Asia/Kolkata).
    expect(screen.getByText('04 Mar 2024, 20:00')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('ORD-2')).toBeInTheDocument();
    expect(currentLocation).toBe('/m?after=r1');
    expect(calls.filter((c) => c.operationName === 'PointsRedemptions').at(-1)?.variables).toMatchObject({
      after: 'r1',
      first: 20,
    });
    fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(await screen.findByText('ORD-1')).toBeInTheDocument();
    expect(currentLocation).toBe('/m');
  });
});
