import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { isForeignLayerType, isWalkableType } from '../../oci/media-types.js';
import type { BlobReader } from '../blobs/blob-reader.js';
import { storeDocuments } from '../blobs/store-documents.js';
import { assertRefNameGrammar, type NameChange } from '../index/name-changes.js';
import { findReference } from '../index/reference-table.js';
import { assertWritable } from '../lock.js';
import { commitNames } from './commit-names.js';
import { withLease } from '../leases.js';
import { completeImages } from './complete-images.js';

export interface ImportOptions {
  /** Names in the source to import (default: every named reference). */
  select?: string[];
  /** The name to give the one imported image (`--ref`). */
  rename?: string;
  /** Move names that already point at other images. */
  force?: boolean;
  /** Bring the artifacts (signatures, SBOMs) whose subject is an imported image (default true; `--no-referrers`). */
  referrers?: boolean;
  /** Progress: the bytes to go through, once known, then each step's bytes. */
  onStart?: (totalBytes: number) => void;
  onProgress?: (bytes: number) => void;
}

export interface ImportReport {
  source: string;
  references: NameChange[];
  /** Artifacts (with a `subject`) brought along with their subjects, kept as unnamed index.json entries. */
  referrers: string[];
  /** What was left out, and why (an incomplete referrer). */
  warnings: string[];
  blobs: number;
  bytesWritten: number;
  bytesSkipped: number;
}

/** One entry of a source: an index.json entry (or a `docker save` image), its name by the one rule. */
export interface SourceImage {
  /** The full name (io.containerd.image.name, else ref.name; RepoTags made full); undefined when unnamed. */
  name: string | undefined;
  /** The entry's own ref.name when it differs from `name` (a bare tag next to a full name): `--select` takes it too. */
  alias?: string | undefined;
  descriptor: Descriptor;
}

/**
 * What the pipeline needs of a source, a layout directory or an archive alike: its entries, a
 * reader of its blobs (for the completeness check), and a way to put blobs into the store.
 */
export interface ImportSource {
  /** The path messages name. */
  path: string;
  /** How messages name it: "the source", "the archive". */
  noun: string;
  images: SourceImage[];
  /** Where the source's blobs can be read: the source directory, or the store (an archive's blobs are streamed in). */
  blobs: BlobReader;
  /** Name `path` in completeness errors (an archive), rather than the file at fault (a directory). */
  errorsNameSource: boolean;
  /**
   * Puts `blobs` (digest -> size) into the store; what is there already is kept (and touched, so
   * a gc spares it). Called again when a concurrent gc swept some. Reports its own progress.
   */
  ingest(blobs: ReadonlyMap<Digest, number>): Promise<void>;
  /** Bytes written to the store and bytes gone through so far. */
  counters(): { written: number; seen: number };
}

/** The first entry of each name wins, as in a store's index.json. */
function namedImages(images: readonly SourceImage[]): SourceImage[] {
  const seen = new Set<string>();
  return images.filter((i) => i.name !== undefined && !seen.has(i.name) && seen.add(i.name));
}

/**
 * `--select NAME`: the entry of that full name, else the one whose ref.name it is. Both looked up
 * in maps built once, so selecting k of m images costs O(k + m).
 */
function selector(named: readonly SourceImage[], source: ImportSource): (name: string) => SourceImage {
  const byName = new Map<string, SourceImage>();
  const byAlias = new Map<string, SourceImage[]>();
  for (const i of named) {
    byName.set(i.name!, i);
    if (i.alias === undefined) continue;
    const same = byAlias.get(i.alias);
    if (same) same.push(i);
    else byAlias.set(i.alias, [i]);
  }
  return (name) => {
    const aliased = byAlias.get(name);
    return byName.get(name) ?? (aliased?.length === 1 ? aliased[0]! : findReference(named, name, { path: source.path, in: source.noun }));
  };
}

/** The subject of each unnamed entry that is an artifact about something (a referrer). */
async function referrerSubjects(source: ImportSource): Promise<Map<SourceImage, Digest>> {
  const documents = storeDocuments(source.blobs);
  const out = new Map<SourceImage, Digest>();
  for (const image of source.images) {
    if (image.name !== undefined || !isWalkableType(image.descriptor.mediaType)) continue;
    const doc = await documents.readDocument(image.descriptor).catch(() => undefined);
    if (doc?.subject) out.set(image, doc.subject.digest);
  }
  return out;
}

/**
 * The one import pipeline, for layout directories and archives alike:
 * select (`--select`, else every named entry) -> rename (`--ref`) -> referrers (artifacts whose
 * subject is reached, at any depth, by what is imported) -> completeness (every blob there but
 * foreign layers) -> lease (gc keeps the blobs) -> ingest -> commit (names and referrer entries
 * under the store lock, after checking every blob is still there; a gc that swept a reused blob
 * before the lease was written makes the source ingest it again, at most twice).
 */
export async function runImport(storeRoot: string, source: ImportSource, options: ImportOptions = {}): Promise<ImportReport> {
  await assertWritable(storeRoot);
  if (options.rename !== undefined) assertRefNameGrammar(options.rename);
  const named = namedImages(source.images);
  const subjects = await referrerSubjects(source);
  let chosen: SourceImage[];
  if (options.select?.length) {
    chosen = options.select.map(selector(named, source));
  } else if (named.length > 0) {
    chosen = named;
  } else {
    // An unnamed image (a `docker save` of an untagged image, a layout of one unnamed entry) takes its name from --ref.
    const images = source.images.filter((i) => !subjects.has(i));
    chosen = images.length === 1 && options.rename !== undefined ? images : [];
  }
  if (chosen.length === 0) throw new LayoutfsError('NOT_FOUND', `no named reference to import from ${source.noun} (name one with --ref)`, { path: source.path });
  if (options.rename !== undefined) {
    if (chosen.length !== 1) throw new LayoutfsError('INVALID_ARGUMENT', `--ref names one image, but ${chosen.length} are selected (use --select)`, { path: source.path });
    chosen = [{ name: options.rename, descriptor: chosen[0]!.descriptor }];
  }

  const how = { lacking: `${source.noun} does not hold`, mayLack: isForeignLayerType, path: source.errorsNameSource ? source.path : undefined };
  const blobs = await completeImages(source.blobs, chosen, how);
  const referrers: Descriptor[] = [];
  const warnings: string[] = [];
  if (options.referrers !== false) {
    const roots = new Set<Digest>(chosen.map((c) => c.descriptor.digest));
    const pending = new Map(subjects);
    for (const image of pending.keys()) if (roots.has(image.descriptor.digest)) pending.delete(image);
    for (let grew = true; grew;) {
      grew = false;
      for (const [image, subject] of pending) {
        if (!blobs.has(subject)) continue;
        pending.delete(image);
        grew = true;
        const d = image.descriptor;
        if (referrers.some((r) => r.digest === d.digest)) continue;
        try {
          for (const [digest, size] of await completeImages(source.blobs, [{ name: `referrer ${d.digest}`, descriptor: d }], how)) blobs.set(digest, size);
          referrers.push(d);
        } catch (err) {
          warnings.push(`left out ${d.digest} (about ${subject}): ${(err as Error).message}`);
        }
      }
    }
  }

  const names = chosen as { name: string; descriptor: Descriptor }[];
  // Leased from before the first blob is written until the names that hold them are in index.json.
  const references = await withLease(storeRoot, blobs.keys(), async () => {
    await source.ingest(blobs);
    return commitNames(storeRoot, blobs, names, referrers, options.force ?? false, () => source.ingest(blobs));
  });
  const { written, seen } = source.counters();
  return { source: source.path, references, referrers: referrers.map((r) => r.digest), warnings, blobs: blobs.size,
    bytesWritten: written, bytesSkipped: Math.max(0, seen - written) };
}
