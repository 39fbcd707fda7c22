import { close, fstat, open, read } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Promise forms of the descriptor calls. Blob bytes are read through raw descriptors, not
 * FileHandles: the FUSE adapter hands them to the native core and the archive reader keeps them open
 * across reads, and one buffer per reader is reused (fs.read into a given buffer).
 */
export const openFd = promisify(open);
export const fstatFd = promisify(fstat);
export const readFd = promisify(read);
export const closeFd = promisify(close);
