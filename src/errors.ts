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

/** The errno code of a failed system call (`ENOENT`, ...), if it has one. */
export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** Layoutfs codes for the errno values a file call commonly fails with; any other is UNAVAILABLE. */
const BY_ERRNO: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'NOT_FOUND',
  ELOOP: 'FAILED_PRECONDITION',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EROFS: 'PERMISSION_DENIED',
};

/**
 * The one mapping of a failed file call on `path` to a LayoutfsError. `known` gives the rule in
 * words for the errno values the caller tells apart (their code comes from BY_ERRNO); any other
 * failure gets the rule `other(errno, or the message when there is none)` and `otherCode`.
 */
export function fileError(err: unknown, path: string, known: Readonly<Record<string, string>>, other: (why: string) => string,
  otherCode: ErrorCode = 'UNAVAILABLE'): LayoutfsError {
  const errno = errnoOf(err);
  const rule = errno === undefined || !Object.hasOwn(known, errno) ? undefined : known[errno];
  if (rule !== undefined) return new LayoutfsError(BY_ERRNO[errno!] ?? otherCode, rule, { path, cause: err });
  return new LayoutfsError(otherCode, other(errno ?? (err as Error).message), { path, cause: err });
}

/**
 * Parses JSON text, or throws `code` with the rule: `not valid JSON (why)`, after `where` (a
 * place in a file) and before `hint` (what to do), naming `path` when given.
 */
export function parseJson(bytes: Buffer | string, at: { path?: string; where?: string; code?: ErrorCode; hint?: string } = {}): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    const rule = `${at.where ? `${at.where}: ` : ''}not valid JSON (${(err as Error).message})${at.hint ? `; ${at.hint}` : ''}`;
    throw new LayoutfsError(at.code ?? 'FAILED_PRECONDITION', rule, { path: at.path, cause: err });
  }
}
