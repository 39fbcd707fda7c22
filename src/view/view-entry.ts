import type { Descriptor } from '../oci/descriptor.js';
import { parseReference, type Reference } from '../oci/reference.js';
import { viewIndexJson } from './index-json.js';

/** One view directory: a named reference, an entry by digest under `_digests/`, or a platform of a named reference. */
export class ViewEntry {
  private parsed: Reference | undefined;

  constructor(
    /** View path, no leading `/`. */
    readonly path: string,
    /** The reference name; undefined for `_digests/` views. */
    readonly name: string | undefined,
    readonly root: Descriptor,
    /** For a view under `_platforms/`: the platform directory (`linux-arm64-v8`); its name is its named view's. */
    readonly platform?: string,
  ) {}

  /** The name parsed, when first asked for (index.json, the registry): ls and du never ask. */
  get reference(): Reference | undefined {
    return this.name === undefined ? undefined : (this.parsed ??= parseReference(this.name));
  }

  /**
   * The view's index.json, built each time it is asked for (a few microseconds; see
   * scripts/bench/README.md). Not kept: after a crawl of 50,000 references, 100,000 kept buffers of
   * ~600 bytes held 28,000 of Buffer's 8 KiB pool slabs (each shared with buffers long gone),
   * 246 MiB, a fifth of the mount's RSS.
   */
  get indexJson(): Buffer {
    return viewIndexJson(this.root, this.reference);
  }
}

/** A view of a named reference: its name and parsed reference are always there. */
export type NamedView = ViewEntry & { readonly name: string; readonly reference: Reference };
