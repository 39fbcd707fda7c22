/**
 * ustar headers (POSIX.1-1988), written byte for byte so archives are deterministic. Names over
 * 100 bytes use the prefix field when they split at a `/`; longer ones get a PAX `path` record.
 */
export interface TarEntry {
  name: string;
  size: number;
  /** '0' file, '5' directory, '1' hard link, '2' symlink. */
  type?: '0' | '1' | '2' | '5';
  mode?: number;
  mtime?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
}

export const BLOCK = 512;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  writeString(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function header(entry: TarEntry, name: string, prefix: string, typeflag: string = entry.type ?? '0'): Buffer {
  const buf = Buffer.alloc(BLOCK);
  writeString(buf, 0, 100, name);
  writeOctal(buf, 100, 8, entry.mode ?? (entry.type === '5' ? 0o755 : 0o644));
  writeOctal(buf, 108, 8, entry.uid ?? 0);
  writeOctal(buf, 116, 8, entry.gid ?? 0);
  writeOctal(buf, 124, 12, entry.size);
  writeOctal(buf, 136, 12, entry.mtime ?? 0);
  buf.fill(' ', 148, 156);
  buf.write(typeflag, 156, 'ascii');
  writeString(buf, 157, 100, entry.linkname ?? '');
  buf.write('ustar\0', 257, 'ascii');
  buf.write('00', 263, 'ascii');
  writeString(buf, 345, 155, prefix);
  let sum = 0;
  for (const b of buf) sum += b;
  writeString(buf, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return buf;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Bytes to pad `size` content bytes to a whole block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Octal sizes stop at 8 GiB (11 digits); larger ones travel in a PAX `size` record. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** Where a name fits the ustar name and prefix fields, or undefined when it needs a PAX path. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  const slash = name.lastIndexOf('/', 155);
  if (slash > 0 && Buffer.byteLength(name.slice(slash + 1)) <= 100 && Buffer.byteLength(name.slice(0, slash)) <= 155) {
    return { name: name.slice(slash + 1), prefix: name.slice(0, slash) };
  }
  return undefined;
}

/** The header block(s) that precede an entry's content. */
export function tarHeader(entry: TarEntry): Buffer {
  const split = splitName(entry.name);
  const bigSize = entry.size > MAX_OCTAL_SIZE;
  if (split && !bigSize) return header(entry, split.name, split.prefix);
  const pax = Buffer.from((split ? '' : paxRecord('path', entry.name)) + (bigSize ? paxRecord('size', String(entry.size)) : ''));
  const paxHeader = header({ name: 'PaxHeader', size: pax.length, mode: 0o644, mtime: entry.mtime ?? 0 }, 'PaxHeader', '', 'x');
  const fields = split ?? { name: entry.name.slice(0, 100), prefix: '' };
  const main = header({ ...entry, size: bigSize ? MAX_OCTAL_SIZE : entry.size }, fields.name, fields.prefix);
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padding(pax.length)), main]);
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(BLOCK * 2);
