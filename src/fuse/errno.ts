import type { ErrorCode } from '../errors.js';
import { isLayoutfsError } from '../errors.js';
import { constants } from 'node:os';

const E = constants.errno;

/** One table from layoutfs error codes to errno: exhaustive, so a new code cannot go unmapped. */
const BY_CODE: Record<ErrorCode, number> = {
  NOT_FOUND: E.ENOENT,
  INVALID_ARGUMENT: E.EINVAL,
  FAILED_PRECONDITION: E.EIO,
  UNAVAILABLE: E.EIO,
  DATA_LOSS: E.EIO,
  PERMISSION_DENIED: E.EACCES,
  RESOURCE_EXHAUSTED: E.ENOMEM,
  INTERNAL: E.EIO,
};

/**
 * The negative errno fuse-native expects for any thrown value. Always an integer: fuse-native
 * crashes the process on a null status.
 */
export function toErrno(err: unknown): number {
  if (isLayoutfsError(err)) return -BY_CODE[err.code];
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code in E) return -E[code as keyof typeof E];
  return -E.EIO;
}

export const ENOENT = -E.ENOENT;
export const EROFS = -E.EROFS;
export const EBADF = -E.EBADF;
export const ENOTDIR = -E.ENOTDIR;
export const EISDIR = -E.EISDIR;
