import { lstat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf } from '../../errors.js';
import { syncDirectory, writeFileAtomic } from '../atomic-file.js';
import { indexBytes } from '../index/index-model.js';
import { readIndexFile } from '../index/read-index.js';
import { withStoreLock } from '../lock.js';
import { openStore } from '../store-reader.js';
import { planGc, type GcPlan } from './plan.js';

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;

export interface GcResult extends GcPlan {
  deleted: number;
  freed: number;
}

/**
 * Plans and sweeps under the store lock: an import commits its index entry under the same lock
 * after checking its blobs are there, so a blob it reuses is either kept here or re-ingested
 * there, never lost. Each file's age is checked again right before it goes.
 */
export async function collectGarbage(storeDir: string, options: { graceMs: number; dryRun?: boolean;
  onStart?: (bytes: number) => void; onProgress?: (bytes: number) => void }): Promise<GcResult> {
  // A dry run holds no lock and serves nothing: sync reads of small documents are faster. Under
  // the lock, reads stay async so the lock's refresh timer keeps running.
  const store = await openStore(storeDir, { syncReads: options.dryRun });
  if (options.dryRun) return { ...(await planGc(store, options.graceMs)), deleted: 0, freed: 0 };
  return withStoreLock(store.root, async (stillHeld) => {
    const plan = await planGc(store, options.graceMs);
    if (plan.danglingReferrers.length > 0) {
      // Under the same lock as the plan: no import added an entry since it was read.
      const index = await readIndexFile(store.root);
      const gone = new Set<string>(plan.danglingReferrers);
      const entries = index.entries.filter((e) => e.name !== undefined || !e.descriptor || !gone.has(e.descriptor.digest));
      stillHeld();
      await writeFileAtomic(index.file, indexBytes(index, entries));
    }
    options.onStart?.(plan.bytes);
    let deleted = 0;
    let freed = 0;
    const touched = new Set<string>();
    for (const c of plan.delete) {
      const s = await lstat(c.file).catch(() => undefined);
      if (!s || Date.now() - s.mtimeMs < options.graceMs) continue;
      stillHeld();
      // A file gone meanwhile is not counted; any other failure stops gc with its error.
      const gone = await unlink(c.file).then(() => true, (err: unknown) => {
        if (errnoOf(err) === 'ENOENT') return false;
        throw err;
      });
      if (!gone) continue;
      deleted++;
      freed += s.size;
      options.onProgress?.(s.size);
      touched.add(join(c.file, '..'));
    }
    for (const dir of touched) await syncDirectory(dir);
    return { ...plan, deleted, freed };
  });
}
