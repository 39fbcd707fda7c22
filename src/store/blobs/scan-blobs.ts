import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../../oci/digest.js';
import { isTempName } from '../atomic-file.js';
import type { Finding } from '../findings.js';
import { isLeaseName } from '../leases.js';
import { BlobPositions } from './blob-positions.js';

/** One blobs/<alg>/ directory as listed. */
export interface BlobDir {
  alg: DigestAlgorithm;
  path: string;
  /** Its digest-named entries in listing order: entry j is blob `first + j` of the scan. */
  names: string[];
  first: number;
  /**
   * Whether blobs/ and this directory are real directories (usually): fsck stats and reads by
   * path only the blobs listed through real ones.
   */
  real: boolean;
}

/** What one listing of the store's directories tells, without a stat per blob. */
export interface BlobScan {
  /**
   * Every digest-named entry of blobs/<alg>/, whatever its type (as the store's readers list
   * them), with its position: gc and fsck keep what they learn of each blob in arrays by position.
   */
  present: BlobPositions;
  dirs: BlobDir[];
  /** Temp files a killed writer left beside index.json or among the blobs. */
  temps: string[];
  /** Names of the leases beside index.json (leases.ts). */
  leases: string[];
  /** blobs/ or blobs/<alg> not a real directory (readers refuse what is under it). */
  findings: Finding[];
}

async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function lstatIf(path: string): Promise<Stats | undefined> {
  return lstat(path).catch(() => undefined);
}

/**
 * Lists the store root and each blobs/<alg>/ once: presence, temp files and leases for gc and fsck, with
 * no call per blob (names only: gc needs no types, and fsck stats each blob anyway). A
 * blobs/ or blobs/<alg> that is a symlink (inside the store, or openStore refused it) is reported
 * and listed, but nothing under it is checked by path.
 */
export async function scanBlobs(root: string): Promise<BlobScan> {
  const scan: BlobScan = { present: new BlobPositions(), dirs: [], temps: [], leases: [], findings: [] };
  for (const name of await namesIn(root)) {
    if (isTempName(name)) scan.temps.push(join(root, name));
    else if (isLeaseName(name)) scan.leases.push(name);
  }
  const blobs = join(root, 'blobs');
  const top = await lstatIf(blobs);
  if (!top) return scan;
  const real = top.isDirectory();
  if (!real) scan.findings.push({ kind: 'NOT_REGULAR', file: blobs, message: `blobs is ${top.isSymbolicLink() ? 'a symlink' : 'not a directory'}; it must be a real directory` });
  for (const alg of DIGEST_ALGORITHMS) {
    const path = join(blobs, alg);
    const st = await lstatIf(path);
    if (!st) continue;
    if (real && !st.isDirectory()) {
      scan.findings.push({ kind: 'NOT_REGULAR', file: path, message: `blobs/${alg} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}; it must be a real directory` });
    }
    const first = scan.present.size;
    const { names, others } = scan.present.add(alg, await namesIn(path));
    for (const name of others) if (isTempName(name)) scan.temps.push(join(path, name));
    scan.dirs.push({ alg, path, names, first, real: real && st.isDirectory() });
  }
  return scan;
}
