import { HttpError } from '../errors.js';

/** The most entries one tags or catalog page returns, asked for or not. */
export const MAX_PAGE = 1000;

export interface Page {
  items: string[];
  /** RFC 8288 Link header to the next page, when there is one. */
  link?: string;
}

/**
 * One page of a sorted list, as the spec's `n` and `last` ask: entries after `last` (lexically),
 * at most `n`. `n` above MAX_PAGE, negative or not a number is a 400, as distribution answers,
 * rather than a silent cut that a client could take for the end of the list.
 */
export function paginate(sorted: readonly string[], query: URLSearchParams, path: string): Page {
  const nParam = query.get('n');
  let n = MAX_PAGE;
  if (nParam !== null) {
    if (!/^\d{1,9}$/.test(nParam) || Number(nParam) > MAX_PAGE) {
      throw new HttpError(400, 'PAGINATION_NUMBER_INVALID', `n must be an integer from 0 to ${MAX_PAGE}`);
    }
    n = Number(nParam);
  }
  const last = query.get('last');
  let from = 0;
  if (last !== null) {
    // First entry greater than `last` (binary search: catalogs of 10,000 names are normal).
    let hi = sorted.length;
    while (from < hi) {
      const mid = (from + hi) >>> 1;
      if (sorted[mid]! <= last) from = mid + 1;
      else hi = mid;
    }
  }
  const items = sorted.slice(from, from + n);
  if (n === 0 || from + n >= sorted.length) return { items };
  return { items, link: `<${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"` };
}
