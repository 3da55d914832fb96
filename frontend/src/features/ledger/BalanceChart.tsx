import { Paper, Text } from '@mantine/core';
import { useId } from 'react';
import { formatDateTime } from '../../lib/dates';
import { formatInt } from '../../components/format';
import { balanceSeries, chartGeometry, type ActivityLike } from './balanceSeries';

const BOX = { width: 900, height: 200, left: 56, right: 16, top: 12, bottom: 28 };

/** Balance over time as a step line, drawn in plain SVG (no charting library to ship). */
export function BalanceChart({ activity, timeZone }: { activity: readonly ActivityLike[]; timeZone: string }) {
  const titleId = useId();
  const descId = useId();
  const points = balanceSeries(activity);
  const geometry = chartGeometry(points, BOX);
  if (!geometry) return null;
  const first = points[0];
  const last = points[points.length - 1];
  const lowest = Math.min(...points.map((p) => p.balance));
  const highest = Math.max(...points.map((p) => p.balance));
  const description =
    `Balance went from ${formatInt(first.balance)} on ${formatDateTime(new Date(first.at).toISOString(), timeZone)} ` +
    `to ${formatInt(last.balance)} on ${formatDateTime(new Date(last.at).toISOString(), timeZone)} over ` +
    `${points.length} entries; lowest ${formatInt(lowest)}, highest ${formatInt(highest)}.`;
  const ticks = [geometry.min, Math.round((geometry.min + geometry.max) / 2), geometry.max];
  return (
    <Paper withBorder p="sm" radius="md" mb="sm">
      <Text size="sm" fw={600} id={titleId}>
        Balance over time{' '}
        <Text span size="xs" c="dimmed" fw={400}>
          (latest {points.length} entries)
        </Text>
      </Text>
      <svg
        viewBox={`0 0 ${BOX.width} ${BOX.height}`}
        width="100%"
        role="img"
        aria-labelledby={titleId}
        aria-describedby={descId}
        data-testid="balance-chart"
        style={{ display: 'block', maxHeight: 220 }}
      >
        <desc id={descId}>{description}</desc>
        {ticks.map((t) => (
          <g key={t}>
            <line
              x1={BOX.left}
              x2={BOX.width - BOX.right}
              y1={geometry.yOf(t)}
              y2={geometry.yOf(t)}
              stroke="var(--mantine-color-gray-3)"
              strokeDasharray="3 3"
            />
            <text x={BOX.left - 6} y={geometry.yOf(t) + 4} textAnchor="end" fontSize="11" fill="var(--mantine-color-dimmed)">
              {formatInt(t)}
            </text>
          </g>
        ))}
        <path d={geometry.path} fill="none" stroke="var(--mantine-color-blue-6)" strokeWidth={2} />
        {geometry.dots.map((d, i) => (
          <circle key={i} cx={d.x} cy={d.y} r={2.5} fill="var(--mantine-color-blue-7)">
            <title>
              {formatDateTime(new Date(d.point.at).toISOString(), timeZone)}: {formatInt(d.point.balance)}
            </title>
          </circle>
        ))}
        <text x={BOX.left} y={BOX.height - 8} fontSize="11" fill="var(--mantine-color-dimmed)">
          {formatDateTime(new Date(first.at).toISOString(), timeZone)}
        </text>
        <text x={BOX.width - BOX.right} y={BOX.height - 8} fontSize="11" textAnchor="end" fill="var(--mantine-color-dimmed)">
          {formatDateTime(new Date(last.at).toISOString(), timeZone)}
        </text>
      </svg>
    </Paper>
  );
}
