const GONE: unique symbol = Symbol('gone');

/** A layer holds at most this share of its base before the next one is made flat again. */
const FLATTEN_SHARE = 1 / 16;
const FLATTEN_MIN = 256;

/**
 * A Map made from another without copying it: changes sit in a layer over a base map that no one
 * changes any more (a published snapshot's). A refresh that changes a few views costs those few
 * (and the layer so far) instead of copying four maps of 100,000 entries (0.2 s at 100k).
 * Layering a LayeredMap copies its layer onto the same base, so a lookup is at most two; once
 * the layer grows past a sixteenth of the base, the next one starts from a flat copy, which
 * spreads that copy over the changes that made the layer: O(change) per refresh, amortized.
 * It iterates as a Map changed the same way would (a key deleted and set again moves to the end).
 */
export class LayeredMap<K, V> implements Map<K, V> {
  private readonly base: ReadonlyMap<K, V>;
  private readonly over: Map<K, V | typeof GONE>;
  /** Keys of `base` deleted and set again: they iterate where `over` has them. */
  private readonly moved: Set<K>;
  private count: number;

  /** A map equal to `previous`, which must not change any more. */
  constructor(previous: ReadonlyMap<K, V>) {
    if (previous instanceof LayeredMap && previous.over.size <= Math.max(FLATTEN_MIN, previous.base.size * FLATTEN_SHARE)) {
      const layered = previous as LayeredMap<K, V>;
      this.base = layered.base;
      this.over = new Map(layered.over);
      this.moved = new Set(layered.moved);
      this.count = layered.count;
    } else {
      this.base = previous instanceof LayeredMap ? new Map(previous) : previous;
      this.over = new Map();
      this.moved = new Set();
      this.count = previous.size;
    }
  }

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    // A refresh that changed nothing (the one at a mount's start) leaves an empty layer: one lookup, not three.
    if (this.over.size === 0) return this.base.get(key);
    const v = this.over.get(key);
    if (v !== undefined || this.over.has(key)) return v === GONE ? undefined : v;
    return this.base.get(key);
  }

  has(key: K): boolean {
    if (this.over.size === 0) return this.base.has(key);
    return this.over.has(key) ? this.over.get(key) !== GONE : this.base.has(key);
  }

  set(key: K, value: V): this {
    if (this.over.has(key)) {
      if (this.over.get(key) === GONE) {
        this.count++;
        // Set again after a delete: it goes to the end, as in a Map.
        this.over.delete(key);
        if (this.base.has(key)) this.moved.add(key);
      }
    } else if (!this.base.has(key)) {
      this.count++;
    }
    this.over.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (!this.has(key)) return false;
    this.count--;
    if (this.base.has(key)) this.over.set(key, GONE);
    else this.over.delete(key);
    this.moved.delete(key);
    return true;
  }

  clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.base) {
      if (this.moved.has(k)) continue;
      const o = this.over.get(k);
      if (o === undefined && !this.over.has(k)) yield [k, v];
      else if (o !== GONE) yield [k, o as V];
    }
    for (const [k, o] of this.over) {
      if (o !== GONE && (this.moved.has(k) || !this.base.has(k))) yield [k, o];
    }
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }

  readonly [Symbol.toStringTag] = 'LayeredMap';
}
