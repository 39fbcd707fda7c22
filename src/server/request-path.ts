import { HttpError } from './errors.js';

/** Longer request targets are refused (414) before any parsing. */
export const MAX_URL_LENGTH = 8192;

function refuse(why: string): never {
  throw new HttpError(400, 'NAME_INVALID', `bad path: ${why}`);
}

/**
 * Splits a raw request path (the part after a route prefix, never normalized by a URL parser:
 * `new URL` would resolve `..` and `%2e%2e` before we could see them) into segments, each
 * percent-decoded exactly once. Anything that could name something outside the tree is refused
 * rather than cleaned up: `.` and `..` (in any encoding), an encoded `/`, backslashes, NUL, empty
 * segments. A trailing `/` is allowed and dropped (directories).
 */
export function decodePathSegments(raw: string): string[] {
  if (raw === '' || raw === '/') return [];
  const parts = (raw.endsWith('/') ? raw.slice(0, -1) : raw).split('/');
  return parts.map((part) => {
    if (part === '') refuse('empty path segment');
    let s: string;
    try {
      s = decodeURIComponent(part);
    } catch {
      refuse('malformed percent-encoding');
    }
    if (s === '.' || s === '..') refuse('dot segment');
    if (s.includes('/')) refuse('encoded "/" in a segment');
    if (s.includes('\\')) refuse('backslash');
    if (s.includes('\0')) refuse('NUL byte');
    return s;
  });
}

/** Path and query of a raw request target, split at the first `?`. */
export function splitTarget(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: new URLSearchParams() } : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}
