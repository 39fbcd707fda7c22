import { read } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { LayoutfsError } from '../errors.js';
import type { ByteRange } from './byte-ranges.js';

const readFd = promisify(read);
const CHUNK = 1024 * 1024;

/** Writes bytes start..end of fd to res through two reused buffers; rejects when the client goes away. */
export async function pumpRange(fd: number, range: ByteRange, res: ServerResponse): Promise<void> {
  const bufs = [Buffer.allocUnsafeSlow(CHUNK), Buffer.allocUnsafeSlow(CHUNK)];
  let gone: (err: Error) => void = () => undefined;
  const closed = new Promise<never>((_, reject) => (gone = reject));
  closed.catch(() => undefined);
  const onClose = () => gone(new Error('client went away'));
  res.once('close', onClose);
  try {
    let pending: Promise<void> = Promise.resolve();
    for (let pos = range.start, i = 0; pos <= range.end; i++) {
      const buf = bufs[i % 2]!;
      const { bytesRead } = await Promise.race([readFd(fd, buf, 0, Math.min(CHUNK, range.end - pos + 1), pos), closed]);
      if (bytesRead === 0) throw new LayoutfsError('DATA_LOSS', `blob ended at byte ${pos}`);
      await Promise.race([pending, closed]);
      pending = new Promise((resolve, reject) => res.write(buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve())));
      pos += bytesRead;
    }
    await Promise.race([pending, closed]);
    res.end();
  } finally {
    res.off('close', onClose);
  }
}
