import { reportColumns } from './reportColumns';
import { filterFromParams, filterToParams, moreFilterCount, toApiFilter } from './reportFilter';

describe('the All Interactions filter in the URL', () => {
  const today = '2024-05-31';

  it('defaults to the last 30 days of the org', () => {
    const state = filterFromParams(new URLSearchParams(), today);
    expect(state.from).toBe('2024-05-02');
    expect(state.to).toBe('2024-05-31');
    expect(toApiFilter(state)).toEqual({ from: '2024-05-02', to: '2024-05-31' });
  });

  it('puts a reversed range the right way round', () => {
    const state = filterFromParams(new URLSearchParams('from=2024-05-10&to=2024-05-01'), today);
    expect([state.from, state.to]).toEqual(['2024-05-01', '2024-05-10']);
  });

  it('round-trips every filter and restarts paging', () => {
    const params = new URLSearchParams(
      'from=2024-01-01&to=2024-01-31&name=zara&actionId=102&storeId=ST-1&contentText=%20gold%20&after=abc',
    );
    const state = filterFromParams(params, today);
    expect(toApiFilter(state)).toEqual({
      from: '2024-01-01',
      to: '2024-01-31',
      name: 'zara',
      actionId: 102,
      storeId: 'ST-1',
      contentText: 'gold',
    });
    expect(moreFilterCount(state)).toBe(4);
    const out = filterToParams(state);
    expect(out.after).toBeNull();
    expect(out.email).toBeNull();
    expect(out.actionId).toBe('102');
  });

  it('ignores an action id that is not a number', () => {
    expect(filterFromParams(new URLSearchParams('actionId=abc'), today).actionId).toBeNull();
  });
});

describe('report columns follow the organization, like the export', () => {
  it('shows group points only with hierarchy, survey columns only with surveys', () => {
    const plain = reportColumns({ hierarchy: false, surveys: false, extendedAttributes: [] }).map((c) => c.key);
    expect(plain).not.toContain('groupPoints');
    expect(plain).not.toContain('surveyName');
    expect(plain).not.toContain('storeId');
    const full = reportColumns({
      hierarchy: true,
      surveys: true,
      extendedAttributes: ['STORE_ID', 'SENDER_ID'],
    }).map((c) => c.key);
    expect(full).toEqual(expect.arrayContaining(['groupPoints', 'surveyName', 'sectionId', 'storeId', 'senderId']));
    expect(full).not.toContain('storeName');
    expect(full.slice(0, 6)).toEqual(['date', 'name', 'userId', 'email', 'actionId', 'actionName']);
  });
});
