import { lstat, readdir } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { join } from 'node:path';
import { digestOfBlobFile, type Digest } from '../../oci/digest.js';
import { isTempName } from '../atomic-file.js';
import type { Finding } from '../findings.js';

/** What one listing of the store's directories tells, without a stat per blob. */
export interface BlobScan {
  /** Every digest-named entry of blobs/<alg>/, whatever its type (as the store's readers list them). */
  present: Set<Digest>;
  /**
   * Those that are not regular files in real directories (usually none): fsck stats and reads
   * by path only the others.
   */
  unchecked: Set<Digest>;
  /** Temp files a killed writer left beside index.json or among the blobs. */
  temps: string[];
  /** blobs/ or blobs/<alg> not a real directory; entries that are symlinks, FIFOs, devices or directories (readers refuse them). */
  findings: Finding[];
}

function kindOf(e: Dirent): string {
  return e.isSymbolicLink() ? 'a symlink' : e.isFIFO() ? 'a FIFO' : e.isDirectory() ? 'a directory' : 'not a regular file';
}

async function entriesOf(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function lstatIf(path: string): Promise<Stats | undefined> {
  return lstat(path).catch(() => undefined);
}

/**
 * Lists the store root and each blobs/<alg>/ once, with the types the directory gives: presence,
 * odd entries and temp files for gc and fsck, with no call per blob. A blobs/ or blobs/<alg> that
 * is a symlink (inside the store, or openStore refused it) is reported and listed, but nothing
 * under it is checked by path.
 */
export async function scanBlobs(root: string): Promise<BlobScan> {
  const scan: BlobScan = { present: new Set(), unchecked: new Set(), temps: [], findings: [] };
  for (const e of await entriesOf(root)) if (isTempName(e.name)) scan.temps.push(join(root, e.name));
  const blobs = join(root, 'blobs');
  const top = await lstatIf(blobs);
  if (!top) return scan;
  const real = top.isDirectory();
  if (!real) scan.findings.push({ kind: 'NOT_REGULAR', file: blobs, message: `blobs is ${top.isSymbolicLink() ? 'a symlink' : 'not a directory'}; it must be a real directory` });
  for (const alg of ['sha256', 'sha512'] as const) {
    const dir = join(blobs, alg);
    const st = await lstatIf(dir);
    if (!st) continue;
    if (real && !st.isDirectory()) {
      scan.findings.push({ kind: 'NOT_REGULAR', file: dir, message: `blobs/${alg} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}; it must be a real directory` });
    }
    const inReal = real && st.isDirectory();
    for (const e of await entriesOf(dir)) {
      const digest = digestOfBlobFile(alg, e.name);
      if (!digest) {
        if (isTempName(e.name)) scan.temps.push(join(dir, e.name));
        continue;
      }
      scan.present.add(digest);
      if (inReal && e.isFile()) continue;
      scan.unchecked.add(digest);
      if (inReal) scan.findings.push({ kind: 'NOT_REGULAR', file: join(dir, e.name), digest, message: `${digest} is ${kindOf(e)}; readers refuse it (replace it with the blob, or remove it)` });
    }
  }
  return scan;
}
