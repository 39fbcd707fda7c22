import { readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isDigestAlgorithm } from '../oci/digest.js';
import { isViewPath } from './materialize-state.js';
import type { OutputDirectories } from './output-directories.js';

/**
 * Removes a view's own entries (not views nested under it), then its empty parents up to OUTDIR.
 * Only a validated view path through real directories is touched; `changed` collects the
 * directories whose entries went.
 */
export function removeView(dirs: OutputDirectories, viewPath: string, changed: Set<string>): void {
  if (!isViewPath(viewPath) || !dirs.isOwn(viewPath)) return;
  const out = dirs.out;
  const dir = join(out, viewPath);
  const algs = dirs.isOwn(`${viewPath}/blobs`) ? readdirSync(join(dir, 'blobs')) : [];
  for (const alg of algs) {
    if (!isDigestAlgorithm(alg) || !dirs.isOwn(`${viewPath}/blobs/${alg}`)) continue;
    for (const name of readdirSync(join(dir, 'blobs', alg))) unlinkSync(join(dir, 'blobs', alg, name));
    rmdirSync(join(dir, 'blobs', alg));
  }
  const own = [() => rmdirSync(join(dir, 'blobs')), () => unlinkSync(join(dir, 'index.json')), () => unlinkSync(join(dir, 'oci-layout'))];
  for (const remove of own) {
    try {
      remove();
    } catch {
      // Gone already, or (blobs/) holding what is not ours: left as it is.
    }
  }
  changed.add(dir);
  for (let d = dir; relative(out, d) !== '' && !relative(out, d).startsWith('..'); d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      break;
    }
    changed.add(dirname(d));
  }
}
