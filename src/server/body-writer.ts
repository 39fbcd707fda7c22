import type { ServerResponse } from 'node:http';
import { LayoutfsError } from '../errors.js';
import type { ByteReader } from '../view/open-file.js';
import type { ByteRange } from './byte-ranges.js';

/**
 * File bytes are copied through two buffers of up to 1 MiB, reused per range, the read of one
 * overlapping the socket write of the other: the fastest of the shapes measured against nginx's
 * sendfile (figures in scripts/bench/README.md, server-blob-throughput).
 */
const CHUNK = 1024 * 1024;
/** Bytes of body buffers all downloads together may hold before new ones get SMALL_CHUNK buffers. */
export const BUFFER_BUDGET = 64 * 1024 * 1024;
const SMALL_CHUNK = 64 * 1024;
let inUse = 0;

/** One piece of a body: an optional multipart header, then a byte range of the source. */
export interface BodyPart {
  head?: Buffer;
  range: ByteRange;
}

type Write = (chunk: Buffer) => Promise<void>;

function noop(): void { /* nothing to do */ }

async function pumpRange(reader: ByteReader, range: ByteRange, write: Write, closed: Promise<never>): Promise<void> {
  // Sized to the range: a 1 KB config needs no 2 MiB of buffers. Past the process's budget,
  // downloads get small buffers: 1,000 stalled clients hold 128 MiB, not 2 GiB.
  const wanted = inUse + 2 * CHUNK > BUFFER_BUDGET ? SMALL_CHUNK : CHUNK;
  const size = Math.min(wanted, range.end - range.start + 1);
  inUse += 2 * size;
  try {
    await pumpWith([Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)], reader, range, write, closed);
  } finally {
    inUse -= 2 * size;
  }
}

async function pumpWith(buffers: Buffer[], reader: ByteReader, range: ByteRange, write: Write, closed: Promise<never>): Promise<void> {
  const size = buffers[0]!.length;
  let pending: Promise<void> = Promise.resolve();
  for (let pos = range.start, i = 0; pos <= range.end; i++) {
    // This buffer's last write (two chunks ago) was awaited in the previous turn.
    const buf = buffers[i % 2]!;
    const bytesRead = await Promise.race([reader.read(buf, 0, Math.min(size, range.end - pos + 1), pos), closed]);
    if (bytesRead === 0) throw new LayoutfsError('DATA_LOSS', `file ended at byte ${pos}, before ${range.end + 1}`);
    await pending;
    pending = write(buf.subarray(0, bytesRead));
    // Awaited next turn; until then a rejection (client gone) must not count as unhandled.
    pending.catch(noop);
    pos += bytesRead;
  }
  await pending;
}

/**
 * Writes `parts` of `source` (bytes in memory, or an open file of the view) and then `tail`, and ends the
 * response, honouring backpressure. Rejects as soon as the client goes away (its socket closed,
 * or destroyed by the server's idle timeout), so a stalled download never holds the fd: the
 * caller closes it when this settles.
 */
export async function writeBody(res: ServerResponse, source: Buffer | ByteReader, parts: BodyPart[], tail?: Buffer): Promise<void> {
  let gone: (err: Error) => void = noop;
  const closed = new Promise<never>((_, reject) => (gone = reject));
  closed.catch(noop);
  const onClose = () => gone(new Error('the client went away'));
  res.once('close', onClose);
  const write: Write = (chunk) =>
    Promise.race([new Promise<void>((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve()))), closed]);
  try {
    for (const part of parts) {
      if (part.head) await write(part.head);
      if (Buffer.isBuffer(source)) await write(source.subarray(part.range.start, part.range.end + 1));
      else await pumpRange(source, part.range, write, closed);
    }
    if (tail) await write(tail);
    res.end();
  } finally {
    res.off('close', onClose);
  }
}
