import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { Finding } from '../store/findings.js';
import type { Closure } from '../store/graph/closure.js';
import { closureFileBound, ClosureRecords, ClosureRecordsWriter, saveClosureRecords, type RecordedClosure } from '../store/graph/closure-file.js';
import type { StoreReader } from '../store/store-reader.js';
import type { Snapshot } from './snapshot.js';

/**
 * A closure as accounting sees it: where its blobs sit in the snapshot's blob table, and their
 * sizes. Typed arrays: 12 bytes a blob where a closure's map of digest strings costs about 150.
 */
export interface Tally {
  /** Table positions of the closure's blobs, walk order, the root first; no position twice. */
  positions: Uint32Array;
  sizes: Float64Array;
  bytes: number;
  missing: readonly Descriptor[];
  problems: readonly Finding[];
}

interface Known {
  tally: Tally;
  /** What ls shows as the root's platforms, once known. */
  platforms: readonly string[] | undefined;
  /**
   * Whether the closure is a fact worth keeping: complete (no blob missing, every document read)
   * and every blob of it in the snapshot's table.
   */
  complete: boolean;
}

/** What a recorded closure lacks: nothing (one array for all). */
const NONE: readonly never[] = Object.freeze([]);

/** `closure` in `snapshot`'s blob table's terms, and whether it is complete there. */
function tallyOf(closure: Closure, snapshot: Snapshot): { tally: Tally; complete: boolean } {
  const positions = new Uint32Array(closure.blobs.size);
  const sizes = new Float64Array(closure.blobs.size);
  let k = 0;
  for (const [digest, blob] of closure.blobs) {
    const i = snapshot.present.indexOf(digest);
    // A closure cached across a refresh may list a blob gone since: it counts nowhere now.
    if (i < 0) continue;
    positions[k] = i;
    sizes[k++] = blob.size;
  }
  const complete = k === closure.blobs.size && closure.missing.length === 0 && closure.problems.length === 0;
  return { tally: { positions: positions.subarray(0, k), sizes: sizes.subarray(0, k), bytes: closure.bytes,
    missing: closure.missing, problems: closure.problems }, complete };
}

/**
 * The closures ls, du and the census count with, for one snapshot: from the store's closures file
 * (closure-file.ts) where a record holds among the snapshot's blobs, computed from the documents
 * otherwise. This is the one place a record is trusted, and only for accounting (sizes, nlink,
 * platforms shown by ls): a forged record can skew those numbers but never what a view serves,
 * which comes from the documents (View.closureOf). What was computed is written back by `save`.
 */
export class AccountingClosures {
  /**
   * By root digest (strings whose hash V8 keeps: a key made of digest, size and media type was
   * hashed anew at each of ls's three lookups per reference, 2.4 µs each at 100,000 references).
   */
  private readonly known = new Map<Digest, Variant>();
  /** Whether something complete was computed that the file lacks. */
  private learned = false;

  private constructor(
    private readonly snapshot: Snapshot,
    private readonly records: ClosureRecords,
    private readonly compute: (root: Descriptor) => Promise<Closure>,
    private readonly computePlatforms: (root: Descriptor) => Promise<string[]>,
  ) {}

  /** Reads the store's closures file (or nothing, when it does not hold) for `snapshot`. */
  static async open(store: StoreReader, snapshot: Snapshot, compute: (root: Descriptor) => Promise<Closure>,
    computePlatforms: (root: Descriptor) => Promise<string[]>): Promise<AccountingClosures> {
    const bound = closureFileBound(snapshot.present.size, snapshot.views.size);
    return new AccountingClosures(snapshot, await ClosureRecords.load(store.safeRoot, bound), compute, computePlatforms);
  }

  /** The closure of `root` for counting. */
  async tally(root: Descriptor): Promise<Tally> {
    return (await this.entry(root)).tally;
  }

  /** What the root's own documents say its platforms are (an index's manifests, a manifest's config). */
  async platforms(root: Descriptor): Promise<readonly string[]> {
    const known = await this.entry(root);
    if (known.platforms === undefined) {
      known.platforms = await this.computePlatforms(root);
      if (known.complete) this.learned = true;
    }
    return known.platforms;
  }

  /**
   * Writes the file anew when something was learned, with a record for every root of the
   * snapshot's views whose closure is complete (computed now, or a record that still holds):
   * records of roots no longer in index.json are dropped. No lock: every record is a content
   * fact, so concurrent writers race atomic renames and any winner is right. A store that cannot
   * be written keeps what it had (false).
   */
  async save(store: StoreReader): Promise<boolean> {
    if (!this.learned) return false;
    this.learned = false;
    const writer = new ClosureRecordsWriter(this.snapshot.present);
    const seen = new Set<string>();
    for (const { root } of this.snapshot.views.values()) {
      const key = keyOf(root);
      if (seen.has(key)) continue;
      seen.add(key);
      const known = await this.variant(root)?.known;
      const closure: RecordedClosure | undefined = known
        ? (known.complete ? { ...known.tally, platforms: known.platforms } : undefined)
        : this.records.find(root, this.snapshot.present);
      if (closure && closure.positions.length > 0) writer.add(root.mediaType, closure);
    }
    const bytes = writer.encode();
    if (bytes.length > closureFileBound(this.snapshot.present.size, this.snapshot.views.size)) return false;
    return saveClosureRecords(store.root, bytes);
  }

  private entry(root: Descriptor): Promise<Known> {
    let v = this.variant(root);
    if (!v) this.known.set(root.digest, (v = { size: root.size, mediaType: root.mediaType, known: this.load(root), next: this.known.get(root.digest) }));
    return v.known;
  }

  private variant(root: Descriptor): Variant | undefined {
    let v = this.known.get(root.digest);
    while (v && (v.size !== root.size || v.mediaType !== root.mediaType)) v = v.next;
    return v;
  }

  private async load(root: Descriptor): Promise<Known> {
    const recorded = this.records.find(root, this.snapshot.present);
    if (recorded) {
      const { positions, sizes, bytes, platforms } = recorded;
      return { tally: { positions, sizes, bytes, missing: NONE, problems: NONE }, platforms, complete: true };
    }
    const { tally, complete } = tallyOf(await this.compute(root), this.snapshot);
    if (complete) this.learned = true;
    return { tally, platforms: undefined, complete };
  }
}

/**
 * What is known of a root. A closure depends on the root's digest, and on the size and media type
 * its descriptor claims: descriptors of one digest claiming others (almost never) chain on.
 */
interface Variant {
  size: number;
  mediaType: string;
  known: Promise<Known>;
  next: Variant | undefined;
}

/** A root as `save` tells roots apart. */
function keyOf(root: Descriptor): string {
  return `${root.digest} ${root.size} ${root.mediaType}`;
}
