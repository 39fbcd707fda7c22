import { LRUCache } from 'lru-cache';
import type { Digest } from '../../oci/digest.js';
import { attachReferrers } from '../../view/referrers.js';
import type { Snapshot } from '../../view/snapshot.js';
import type { ViewEntry } from '../../view/view-entry.js';
import type { Closure, ClosureBlob, View } from '../../view/view.js';
import type { Repository } from './registry-index.js';

/** What a repository may serve, and whether every closure it came from was whole (nothing missing or unreadable). */
interface Entry {
  blobs: ReadonlyMap<Digest, ClosureBlob>;
  complete: boolean;
}

/** Heap cost of an entry, counted as the metadata cache counts a closure (map entries and their blob records). */
function entrySize(e: Entry): number {
  return 256 + e.blobs.size * 120;
}

function isComplete(c: Closure): boolean {
  return c.missing.length === 0 && c.problems.length === 0;
}

function holdsSubject(blobs: ReadonlyMap<Digest, ClosureBlob>, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>): boolean {
  for (const subject of referrers.keys()) if (blobs.has(subject)) return true;
  return false;
}

/**
 * The blobs each repository may serve (reachability is the access rule): the closures of its
 * references and of the referrers attached to anything they reach. Built on a repository's first
 * blob or manifest-by-digest request, kept by Repository object: the registry index hands the same
 * object to the next store state while the repository's references are unchanged, so its map
 * survives a change elsewhere. Bounded in bytes like the metadata cache (a mirror pulling every
 * repository of 50,000 must not hold 50,000 maps); a miss costs one repository's closures.
 */
export class RepositoryBlobs {
  private readonly lru: LRUCache<Repository, Entry>;
  private readonly building = new Map<Repository, Promise<Entry>>();
  /** Moves at every store change: a map built across one may mix two states, so it is returned but not kept. */
  private epoch = 0;
  /** Maps built so far (a reused one is not counted): metrics show that a change elsewhere rebuilds none. */
  built = 0;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<Repository, Entry>({ maxSize: maxBytes, sizeCalculation: entrySize });
  }

  /** The blobs `repo` may serve in `snapshot`, with `referrers` (the same state's, by subject) attached. */
  async of(view: View, repo: Repository, snapshot: Snapshot, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>): Promise<ReadonlyMap<Digest, ClosureBlob>> {
    const cached = this.lru.get(repo);
    if (cached) return cached.blobs;
    let pending = this.building.get(repo);
    if (!pending) {
      const epoch = this.epoch;
      pending = this.build(view, repo, snapshot, referrers);
      this.building.set(repo, pending);
      pending.then((entry) => {
        if (this.building.get(repo) === pending) this.building.delete(repo);
        if (epoch === this.epoch) this.lru.set(repo, entry);
      }, () => this.building.delete(repo));
    }
    return (await pending).blobs;
  }

  private async build(view: View, repo: Repository, snapshot: Snapshot, referrers: ReadonlyMap<Digest, readonly ViewEntry[]>): Promise<Entry> {
    this.built++;
    const closures: Closure[] = [];
    for (const name of repo.roots) {
      // Absent only for a request that took the repository before a change removed the reference.
      const v = snapshot.byName.get(name);
      if (v) closures.push(await view.closureOf(v));
    }
    let complete = closures.every(isComplete);
    // The usual repository, one reference and nothing attached: its closure's own map, shared with the metadata cache.
    if (closures.length === 1 && !holdsSubject(closures[0]!.blobs, referrers)) return { blobs: closures[0]!.blobs, complete };
    const blobs = new Map<Digest, ClosureBlob>();
    for (const c of closures) for (const [d, b] of c.blobs) if (!blobs.has(d)) blobs.set(d, b);
    await attachReferrers(blobs, referrers, async (r) => {
      const c = await view.closureOf(r);
      complete &&= isComplete(c);
      return c;
    });
    return { blobs, complete };
  }

  /**
   * After a store change: drops the maps of `replaced` repositories (their references changed),
   * those holding a subject whose referrers changed (they gain or lose that referrer's closure),
   * and, when the store's blobs changed (`present` given), those an incomplete closure made
   * (arriving blobs can complete it) or holding a blob that is gone. Other maps stay true:
   * the closure of a whole root does not change while its blobs stay.
   */
  carryOver(replaced: Iterable<Repository>, subjects: readonly Digest[], present: ReadonlySet<Digest> | undefined): void {
    // A map being built meanwhile may mix the two states: it is returned but not kept.
    this.epoch++;
    this.building.clear();
    const drop = [...replaced];
    if (subjects.length > 0 || present) {
      for (const [repo, e] of this.lru.entries()) {
        if (subjects.some((s) => e.blobs.has(s)) || (present && (!e.complete || !allPresent(e.blobs, present)))) drop.push(repo);
      }
    }
    for (const repo of drop) this.lru.delete(repo);
  }
}

function allPresent(blobs: ReadonlyMap<Digest, ClosureBlob>, present: ReadonlySet<Digest>): boolean {
  for (const d of blobs.keys()) if (!present.has(d)) return false;
  return true;
}
