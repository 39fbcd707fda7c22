import { LRUCache } from 'lru-cache';
import type { Descriptor } from '../oci/descriptor.js';
import type { ParsedDocument } from '../oci/manifest.js';
import { isWalkableType } from '../oci/media-types.js';
import type { Closure, DocumentReader } from '../store/graph/closure.js';
import type { BlobReader } from '../store/blobs/blob-reader.js';
import { storeDocuments, type StoreDocuments } from '../store/blobs/store-documents.js';

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

type Entry = { kind: 'document'; value: ParsedDocument; bytes: number } | { kind: 'closure'; value: Closure }
  | { kind: 'bytes'; value: Buffer };

/** Heap cost of an entry, measured roughly with heap snapshots: what the LRU's byte bound counts. */
function entrySize(e: Entry): number {
  if (e.kind === 'document') return 256 + e.bytes * 2;
  if (e.kind === 'bytes') return 256 + e.value.length;
  return 256 + e.value.blobs.size * 120 + e.value.missing.length * 300;
}

function documentKey(descriptor: Descriptor): string {
  return `m:${descriptor.mediaType}:${descriptor.digest}`;
}

/** A root's closure depends on its digest, and on the size and media type its descriptor claims. */
function closureKey(root: Descriptor): string {
  return `c:${root.digest}:${root.size}:${root.mediaType}`;
}

/**
 * The LRU metadata cache: parsed manifests/indexes and their verified bytes (immutable, keyed by
 * digest) and view closures (by root; they depend on which blobs the store has, so the view drops
 * the ones a change of presence can alter).
 * Bounded in bytes; concurrent misses for the same key share one load.
 */
export class MetadataCache implements DocumentReader {
  private readonly lru: LRUCache<string, Entry>;
  private readonly loading = new Map<string, Promise<Entry>>();
  hits = 0;
  misses = 0;
  /** Entries pushed out to make room: above zero, what is read does not fit the bound (the status says so). */
  evictions = 0;
  /** Moves at each dropClosures: a closure computed across a drop is not kept. */
  private closureEpoch = 0;

  private readonly source: StoreDocuments;

  constructor(private readonly blobs: BlobReader, maxBytes = DEFAULT_CACHE_BYTES) {
    this.source = storeDocuments(blobs);
    this.lru = new LRUCache<string, Entry>({ maxSize: maxBytes, sizeCalculation: entrySize,
      dispose: (_value, _key, reason) => reason === 'evict' && this.evictions++ });
  }

  get maxBytes(): number {
    return this.lru.maxSize;
  }

  get calculatedBytes(): number {
    return this.lru.calculatedSize;
  }

  async readDocument(descriptor: Descriptor): Promise<ParsedDocument> {
    const e = await this.load(documentKey(descriptor), async () =>
      ({ kind: 'document', value: await this.source.readDocument(descriptor), bytes: descriptor.size }));
    return e.value as ParsedDocument;
  }

  /**
   * Reads the documents of `descriptors` neither cached nor being read, in one read of the store,
   * and keeps them: the views a listing shows are warmed so, a group at a time. A reader of one
   * of them meanwhile shares the read; a document that fails is not kept, and its reader meets
   * the error again.
   */
  async preloadDocuments(descriptors: readonly Descriptor[]): Promise<void> {
    const keys = new Set<string>();
    const wanted = descriptors.filter((d) => {
      const key = documentKey(d);
      if (!isWalkableType(d.mediaType) || keys.has(key) || this.lru.has(key) || this.loading.has(key)) return false;
      keys.add(key);
      return true;
    });
    if (wanted.length === 0) return;
    const read = this.source.readDocuments(wanted);
    await Promise.all(wanted.map((d, i) => this.load(documentKey(d), async () => {
      const got = (await read)[i]!;
      if (got instanceof Error) throw got;
      return { kind: 'document', value: got, bytes: d.size } as const;
    }).catch(() => undefined)));
  }

  /**
   * A manifest's or index's bytes, checked against its digest and size once: what a registry GET
   * sends. Keyed by size too, so a descriptor with a wrong size still gets its error.
   */
  async documentBytes(descriptor: Descriptor): Promise<Buffer> {
    // A copy: small reads can be views of a shared pool slab the byte bound would not count.
    const e = await this.load(`b:${descriptor.digest}:${descriptor.size}`, async () =>
      ({ kind: 'bytes', value: Buffer.from(await this.blobs.readVerified(descriptor)) }));
    return e.value as Buffer;
  }

  /**
   * The closure of `root`, computed against the store's blobs when not cached. Closures stay
   * cached across store changes; the view drops those a change of blob presence can alter
   * (dropClosures), and a computation that a drop overtook is returned but not kept.
   */
  async closure(root: Descriptor, compute: () => Promise<Closure>): Promise<Closure> {
    const epoch = this.closureEpoch;
    const e = await this.load(closureKey(root), async () =>
      ({ kind: 'closure', value: await compute() }), () => epoch === this.closureEpoch);
    return e.value as Closure;
  }

  /** The closure of `root` if cached, without computing one. */
  cachedClosure(root: Descriptor): Closure | undefined {
    const e = this.lru.peek(closureKey(root));
    return e?.kind === 'closure' ? e.value : undefined;
  }

  /** Drops the cached closures `stale` says a store change altered (all of them without `stale`). */
  dropClosures(stale?: (closure: Closure) => boolean): void {
    this.closureEpoch++;
    for (const key of this.loading.keys()) if (key.startsWith('c:')) this.loading.delete(key);
    for (const [key, e] of this.lru.entries()) {
      if (e.kind === 'closure' && (!stale || stale(e.value))) this.lru.delete(key);
    }
  }

  private async load(key: string, make: () => Promise<Entry>, keep: () => boolean = () => true): Promise<Entry> {
    const cached = this.lru.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    let pending = this.loading.get(key);
    if (!pending) {
      this.misses++;
      pending = make().finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
      const entry = await pending;
      if (keep()) this.lru.set(key, entry);
      return entry;
    }
    return pending;
  }
}
