import { fireEvent, screen, within } from '@testing-library/react';
import { currentLocation, renderPage, stubGraphQL } from '../../test/render';
import { InteractionReportPage } from './InteractionReportPage';

const row = {
  date: '2024-03-05',
  name: 'Zara Fernandes',
  userId: 'CUST-1',
  email: 'zara@example.com',
  actionId: 102,
  actionName: 'Redemption',
  orderId: 'ORD-9',
  customId: null,
  coupon: null,
  points: -300,
  groupPoints: null,
  pointsExpirationDate: null,
  sectionId: null,
  sectionName: null,
  surveyId: null,
  surveyName: null,
  reason: null,
  source: 'POS',
  optInStatus: true,
  senderId: null,
  receiverId: null,
  storeId: 'ST-1',
  storeName: null,
  storeRegion: null,
  storeType: null,
  phoneNumber: null,
  userRole: null,
};

describe('Reports > All Interactions', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('reads the filter from the URL and shows the rows and the totals', async () => {
    const { calls } = stubGraphQL((op) =>
      op === 'InteractionReportTotals'
        ? { interactionReport: { totalCount: 1, totals: { points: -300 } } }
        : { interactionReport: { edges: [{ cursor: 'k1', node: row }], pageInfo: { hasNextPage: false, endCursor: 'k1' } } },
    );
    renderPage(<InteractionReportPage />, {
      route: '/r?from=2024-03-01&to=2024-03-31&name=zara&actionId=102',
      path: '/r',
    });
    const table = await screen.findByRole('table', { name: 'All Interactions' });
    expect(within(table).getByText('ORD-9')).toBeInTheDocument();
    expect(within(table).getByText('05 Mar 2024')).toBeInTheDocument();
    // Store ID is configured, Group Points (no hierarchy) is not.
    expect(within(table).getByRole('columnheader', { name: 'Store ID' })).toBeInTheDocument();
    expect(within(table).queryByRole('columnheader', { name: 'Group Points' })).toBeNull();
    expect(await screen.findByTestId('report-totals')).toHaveTextContent('Rows: 1');
    expect(screen.getByTestId('report-totals')).toHaveTextContent('Total points: -300');
    const report = calls.find((c) => c.operationName === 'InteractionReport');
    expect(report?.variables).toEqual({
      filter: { from: '2024-03-01', to: '2024-03-31', name: 'zara', actionId: 102 },
      first: 50,
      after: null,
    });
    // The "More" panel opens by itself when such a filter is set.
    expect(screen.getByLabelText('Name')).toHaveValue('zara');
  });

  it('applies typed filters to the URL on submit, restarting paging', async () => {
    stubGraphQL((op) =>
      op === 'InteractionReportTotals'
        ? { interactionReport: { totalCount: 0, totals: { points: 0 } } }
        : { interactionReport: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } },
    );
    renderPage(<InteractionReportPage />, { route: '/r?from=2024-03-01&to=2024-03-31&after=k1', path: '/r' });
    expect(await screen.findByTestId('empty-state')).toHaveTextContent('No interactions match');
    fireEvent.click(screen.getByRole('button', { name: 'More' }));
    fireEvent.change(screen.getByLabelText('Order ID'), { target: { value: ' ORD-9 ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(currentLocation).toBe('/r?from=2024-03-01&to=2024-03-31&orderId=ORD-9');
  });
});
