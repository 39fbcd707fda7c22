import type { ErrorCode } from '../errors.js';
import { isLayoutfsError } from '../errors.js';

/**
 * Error codes of the distribution spec (v1.1) that a read-only registry can answer, plus the three
 * the reference implementation (distribution) uses for what the spec leaves open: UNKNOWN for
 * server faults, PAGINATION_NUMBER_INVALID for a bad `n`, UNAVAILABLE for a store that cannot be read.
 */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'UNSUPPORTED'
  | 'DENIED'
  | 'PAGINATION_NUMBER_INVALID'
  | 'UNAVAILABLE'
  | 'UNKNOWN';

/** A protocol outcome a route decides on (unknown tag, wrong method, ...), answered as-is. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: OciErrorCode, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface HttpFailure {
  status: number;
  code: OciErrorCode;
  /** What the client is told: the rule, never a store path (those go to the log). */
  message: string;
  headers: Record<string, string>;
}

/** One table from layoutfs error codes to HTTP: exhaustive, so a new code cannot go unmapped. */
const BY_CODE: Record<ErrorCode, { status: number; code: OciErrorCode }> = {
  // Store errors reach a request only through a blob open or read: the file is gone (gc ran).
  NOT_FOUND: { status: 404, code: 'BLOB_UNKNOWN' },
  // The one invalid argument a request can carry into the view is a digest (parseDigest).
  INVALID_ARGUMENT: { status: 400, code: 'DIGEST_INVALID' },
  FAILED_PRECONDITION: { status: 500, code: 'UNKNOWN' },
  UNAVAILABLE: { status: 503, code: 'UNAVAILABLE' },
  DATA_LOSS: { status: 500, code: 'UNKNOWN' },
  PERMISSION_DENIED: { status: 403, code: 'DENIED' },
  RESOURCE_EXHAUSTED: { status: 500, code: 'UNKNOWN' },
  INTERNAL: { status: 500, code: 'UNKNOWN' },
};

/** The HTTP answer for anything a route throws. */
export function toHttp(err: unknown): HttpFailure {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message, headers: err.headers };
  if (isLayoutfsError(err)) return { ...BY_CODE[err.code], message: err.rule, headers: {} };
  return { status: 500, code: 'UNKNOWN', message: 'internal error', headers: {} };
}

/** The distribution spec's error body. */
export function errorBody(failure: HttpFailure): string {
  return JSON.stringify({ errors: [{ code: failure.code, message: failure.message }] });
}
