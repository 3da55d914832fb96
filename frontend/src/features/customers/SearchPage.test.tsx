import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { currentLocation, renderPage, stubGraphQL } from '../../test/render';
import { SEARCH_DEBOUNCE_MS, SearchPage } from './SearchPage';

const ZARA = {
  id: 'Q3VzdG9tZXI6MQ==',
  customerId: 'CUST-1',
  name: 'Zara Fernandes',
  email: 'zara@example.com',
  mobile: '9990001111',
  externalId: null,
  tier: 'Gold',
  optedIn: true,
  pointsBalance: 1234,
};

function customers(nodes: (typeof ZARA)[]) {
  return {
    customers: {
      edges: nodes.map((node, i) => ({ cursor: `c${i}`, node })),
      pageInfo: { hasNextPage: false, endCursor: null },
    },
  };
}

describe('member search', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('searches once typing pauses, keeps the text in the URL, and lists the members', async () => {
    const { calls } = stubGraphQL(() => customers([ZARA]));
    renderPage(<SearchPage />, { route: '/customers', path: '/customers' });
    const input = await screen.findByRole('searchbox');
    fireEvent.change(input, { target: { value: 'z' } });
    fireEvent.change(input, { target: { value: 'za' } });
    fireEvent.change(input, { target: { value: 'zara' } });
    expect(calls.filter((c) => c.operationName === 'CustomerSearch')).toHaveLength(0);
    expect(await screen.findByRole('link', { name: 'Zara Fernandes' }, { timeout: SEARCH_DEBOUNCE_MS + 1000 })).toHaveAttribute(
      'href',
      '/customers/CUST-1',
    );
    const searches = calls.filter((c) => c.operationName === 'CustomerSearch');
    expect(searches.map((c) => c.variables.search)).toEqual(['zara']);
    expect(currentLocation).toBe('/customers?q=zara');
    expect(screen.getByText('1,234')).toBeInTheDocument();
  });

  it('moves into the results with the arrow keys', async () => {
    stubGraphQL(() => customers([ZARA, { ...ZARA, id: 'x', customerId: 'CUST-2', name: 'Zara Khan' }]));
    renderPage(<SearchPage />, { route: '/customers?q=zara', path: '/customers' });
    const first = await screen.findByRole('link', { name: 'Zara Fernandes' });
    const input = screen.getByRole('searchbox');
    expect(input).toHaveValue('zara');
    act(() => input.focus());
    fireEvent.keyDown(input, { key: 'ArrowDown' });
    expect(first).toHaveFocus();
    fireEvent.keyDown(first, { key: 'ArrowDown' });
    expect(screen.getByRole('link', { name: 'Zara Khan' })).toHaveFocus();
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(input).toHaveFocus();
  });

  it('says so when nobody matches', async () => {
    stubGraphQL(() => customers([]));
    renderPage(<SearchPage />, { route: '/customers?q=nobody', path: '/customers' });
    await waitFor(() => expect(screen.getByTestId('empty-state')).toHaveTextContent('No member matches “nobody”'));
  });

  it('waits for two characters', async () => {
    const { calls } = stubGraphQL(() => customers([]));
    renderPage(<SearchPage />, { route: '/customers?q=z', path: '/customers' });
    expect(await screen.findByText('Type at least 2 characters.')).toBeInTheDocument();
    expect(calls.some((c) => c.operationName === 'CustomerSearch')).toBe(false);
  });
});
