/**
 * One error class for the whole project: a literal code, the file it concerns and the rule that
 * was broken, so adapters can map it (fuse/errno.ts, server/errors.ts) and people can act on it.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL';

export class LayoutfsError extends Error {
  readonly code: ErrorCode;
  /** The file (or path) the error is about, when there is one. */
  readonly path: string | undefined;
  /** The rule that was broken, in words. */
  readonly rule: string;

  constructor(code: ErrorCode, rule: string, options: { path?: string; cause?: unknown } = {}) {
    super(options.path ? `${options.path}: ${rule}` : rule, { cause: options.cause });
    this.name = 'LayoutfsError';
    this.code = code;
    this.path = options.path;
    this.rule = rule;
  }
}

export function isLayoutfsError(err: unknown, code?: ErrorCode): err is LayoutfsError {
  return err instanceof LayoutfsError && (code === undefined || err.code === code);
}
