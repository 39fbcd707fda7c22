import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../oci/digest.js';
import { processAlive, writeFileAtomic } from './atomic-file.js';
import { readBeneath, safeRoot } from './safe-open.js';

/**
 * Leases, as containerd's content store has them: an import names the blobs it is about to
 * ingest or reuse in a file beside index.json before it writes any, and removes the file once its
 * names are in index.json. gc keeps every blob a live process's lease names, whatever its grace
 * period, so a blob between its ingest and the commit that references it is never swept. The
 * lease is written before the first blob: a gc that read the leases before it existed listed the
 * blobs before the import wrote any.
 */
const LEASE_NAME = /^\.layoutfs-lease-(\d+)-[0-9a-f]+$/;

/** A digest per line: this bounds a lease of a million blobs. */
const MAX_LEASE_BYTES = 160 * 1024 * 1024;

/** Whether a store-root file name is a lease. */
export function isLeaseName(name: string): boolean {
  return LEASE_NAME.test(name);
}

/** Runs `work` with a lease on `digests` in the store at `storeRoot`; the lease goes when it ends, however it ends. */
export async function withLease<T>(storeRoot: string, digests: Iterable<Digest>, work: () => Promise<T>): Promise<T> {
  const file = join(storeRoot, `.layoutfs-lease-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFileAtomic(file, Buffer.from([...digests, ''].join('\n')));
  try {
    return await work();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/**
 * The blobs the leases `names` (store-root file names, isLeaseName) of live processes hold, and
 * the leases whose process is gone (gc removes those like temp files). A lease the safe open
 * refuses, or with a line that is no digest, holds nothing.
 */
export async function leasedBlobs(storeRoot: string, names: readonly string[]): Promise<{ held: Set<Digest>; stale: string[] }> {
  const held = new Set<Digest>();
  const stale: string[] = [];
  const root = names.length > 0 ? await safeRoot(storeRoot) : undefined;
  for (const name of names) {
    if (!processAlive(Number(LEASE_NAME.exec(name)?.[1]))) {
      stale.push(join(storeRoot, name));
      continue;
    }
    const text = await readBeneath(root!, name, 'lease', MAX_LEASE_BYTES).then((r) => r.bytes.toString('latin1'), () => '');
    const lines = text.split('\n').slice(0, -1);
    if (lines.every(isDigest)) for (const d of lines) held.add(d);
  }
  return { held, stale };
}
