import type { InteractionReportFilter } from '../../gql/graphql';
import { addDays, isDay } from '../../lib/dates';

/** The All Interactions report's filter, as it lives in the URL and as the API takes it. */

export const TEXT_FILTERS = [
  'name',
  'email',
  'orderId',
  'storeId',
  'coupon',
  'source',
  'contentText',
] as const;
export type TextFilter = (typeof TEXT_FILTERS)[number];

export interface ReportFilterState {
  from: string;
  to: string;
  actionId: number | null;
  text: Record<TextFilter, string>;
}

export const DEFAULT_RANGE_DAYS = 30;

export function emptyText(): Record<TextFilter, string> {
  return Object.fromEntries(TEXT_FILTERS.map((k) => [k, ''])) as Record<TextFilter, string>;
}

export function defaultRange(today: string): { from: string; to: string } {
  return { from: addDays(today, -(DEFAULT_RANGE_DAYS - 1)), to: today };
}

/** Reads the filter from the URL; a missing or invalid range becomes the last 30 days. */
export function filterFromParams(params: URLSearchParams, today: string): ReportFilterState {
  let from = params.get('from');
  let to = params.get('to');
  if (!isDay(from) || !isDay(to)) {
    ({ from, to } = defaultRange(today));
  } else if (from > to) {
    [from, to] = [to, from];
  }
  const action = Number(params.get('actionId'));
  const text = emptyText();
  for (const key of TEXT_FILTERS) text[key] = params.get(key)?.trim() ?? '';
  return {
    from,
    to,
    actionId: params.get('actionId') && Number.isInteger(action) ? action : null,
    text,
  };
}

/** The URL params of a filter (empty ones dropped); paging restarts with a new filter. */
export function filterToParams(state: ReportFilterState): Record<string, string | null> {
  const out: Record<string, string | null> = {
    from: state.from,
    to: state.to,
    actionId: state.actionId === null ? null : String(state.actionId),
    after: null,
  };
  for (const key of TEXT_FILTERS) out[key] = state.text[key].trim() || null;
  return out;
}

export function toApiFilter(state: ReportFilterState): InteractionReportFilter {
  const filter: InteractionReportFilter = { from: state.from, to: state.to };
  if (state.actionId !== null) filter.actionId = state.actionId;
  for (const key of TEXT_FILTERS) {
    const value = state.text[key].trim();
    if (value) filter[key] = value;
  }
  return filter;
}

/** How many of the "More" filters are set (shown on the button). */
export function moreFilterCount(state: ReportFilterState): number {
  return TEXT_FILTERS.filter((k) => state.text[k].trim()).length + (state.actionId === null ? 0 : 1);
}
