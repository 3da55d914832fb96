/** The balance-over-time chart's geometry, kept free of React so it is easy to test. */

export interface BalancePoint {
  at: number; // epoch ms
  balance: number;
}

export interface ActivityLike {
  occurredAt: string;
  runningBalance: number;
}

/** Oldest first; the API lists newest first. Entries at the same instant keep their order. */
export function balanceSeries(activity: readonly ActivityLike[]): BalancePoint[] {
  return activity
    .map((a, i) => ({ at: Date.parse(a.occurredAt), balance: a.runningBalance, i }))
    .filter((p) => !Number.isNaN(p.at))
    .sort((a, b) => a.at - b.at || b.i - a.i)
    .map(({ at, balance }) => ({ at, balance }));
}

export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface ChartGeometry {
  /** SVG path of the balance as a step line (the balance holds until the next entry). */
  path: string;
  dots: { x: number; y: number; point: BalancePoint }[];
  min: number;
  max: number;
  yOf: (balance: number) => number;
}

export function chartGeometry(points: BalancePoint[], box: ChartBox): ChartGeometry | null {
  if (!points.length) return null;
  const min = Math.min(0, ...points.map((p) => p.balance));
  const max = Math.max(...points.map((p) => p.balance), min + 1);
  const t0 = points[0].at;
  const t1 = points[points.length - 1].at;
  const span = t1 - t0 || 1;
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const xOf = (at: number) =>
    points.length === 1 ? box.left + plotW / 2 : box.left + ((at - t0) / span) * plotW;
  const yOf = (balance: number) => box.top + plotH - ((balance - min) / (max - min)) * plotH;
  const dots = points.map((point) => ({ x: xOf(point.at), y: yOf(point.balance), point }));
  let path = '';
  dots.forEach((d, i) => {
    if (i === 0) path += `M${d.x.toFixed(1)},${d.y.toFixed(1)}`;
    else path += `H${d.x.toFixed(1)}V${d.y.toFixed(1)}`;
  });
  return { path, dots, min, max, yOf };
}
