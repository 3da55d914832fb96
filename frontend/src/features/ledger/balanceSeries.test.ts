import { balanceSeries, chartGeometry } from './balanceSeries';

describe('balance over time', () => {
  const activity = [
    { occurredAt: '2024-03-03T10:00:00+05:30', runningBalance: 150 },
    { occurredAt: '2024-03-02T10:00:00+05:30', runningBalance: 200 },
    { occurredAt: '2024-03-01T10:00:00+05:30', runningBalance: 100 },
  ];

  it('puts the newest-first activity in time order', () => {
    expect(balanceSeries(activity).map((p) => p.balance)).toEqual([100, 200, 150]);
  });

  it('keeps same-instant entries in the order they were applied', () => {
    const same = [
      { occurredAt: '2024-03-01T10:00:00Z', runningBalance: 50 }, // applied later
      { occurredAt: '2024-03-01T10:00:00Z', runningBalance: 80 },
    ];
    expect(balanceSeries(same).map((p) => p.balance)).toEqual([80, 50]);
  });

  it('draws a step line inside the box, zero at the bottom', () => {
    const box = { width: 100, height: 60, left: 10, right: 10, top: 5, bottom: 5 };
    const g = chartGeometry(balanceSeries(activity), box)!;
    expect(g.dots[0].x).toBe(10);
    expect(g.dots[2].x).toBe(90);
    expect(g.yOf(0)).toBe(55);
    expect(g.yOf(200)).toBe(5);
    expect(g.path.startsWith('M10.0,')).toBe(true);
    expect(g.path).toContain('H');
    expect(chartGeometry([], box)).toBeNull();
  });
});
