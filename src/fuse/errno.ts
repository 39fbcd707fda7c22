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

/** The (positive) errno a request fails with, for any thrown value: a layoutfs error by its code, a system error by its own. */
export function toErrno(err: unknown): number {
  if (isLayoutfsError(err)) return BY_CODE[err.code];
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && Object.hasOwn(E, code)) return E[code as keyof typeof E];
  return E.EIO;
}

export const { ENOENT, EROFS, EBADF, ENOTDIR, EISDIR, ENOSYS } = E;
