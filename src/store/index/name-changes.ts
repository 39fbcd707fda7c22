import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import { withNameAnnotations } from '../../oci/name-annotations.js';
import { refToPath } from '../../oci/path-mapping.js';
import { isImageSpecRefName } from '../../oci/reference.js';
import { storedDigest, validEntry, type IndexEntry } from './index-model.js';
import { namedEntry } from './reference-table.js';
import { updateIndex } from './update-index.js';

export interface NameChange {
  name: string;
  digest: string;
  /** The digest the name pointed at before, when it moved. */
  previous?: string;
  action: 'added' | 'moved' | 'unchanged';
}

/** A name to set and the image it is to point at. */
export interface NameWanted {
  name: string;
  descriptor: Descriptor;
}

/**
 * `entries` with each name pointing at its descriptor, applied in order: a name that already
 * points elsewhere moves only with `force`; every other entry of that name goes (one name, one
 * image). Each new entry is the descriptor as stored, named (withNameAnnotations), at the end.
 * One pass over `entries` for all the names: k names in an index of n entries cost O(k + n).
 * Entries left alone are returned as the same objects (updateIndex tells a no-op by them).
 */
export function setNames(entries: readonly IndexEntry[], names: readonly NameWanted[], force: boolean, file: string): { entries: IndexEntry[]; changes: NameChange[] } {
  const wanted = new Set(names.map((n) => n.name));
  const current = new Map<string, IndexEntry[]>();
  for (const e of entries) {
    if (e.name === undefined || !wanted.has(e.name)) continue;
    const same = current.get(e.name);
    if (same) same.push(e);
    else current.set(e.name, [e]);
  }
  // The new entry of each name set, in the order a one-by-one update would leave them: a name set
  // again goes to the end.
  const added = new Map<string, IndexEntry>();
  const changes: NameChange[] = [];
  for (const { name, descriptor } of names) {
    if (refToPath(name) === undefined || /[\0\n]/.test(name)) {
      throw new LayoutfsError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not a usable reference name (empty, or with NUL or newline)`);
    }
    const digest: string = descriptor.digest;
    const now = current.get(name) ?? [];
    if (now.length > 0 && now.every((e) => storedDigest(e) === digest)) {
      changes.push({ name, digest, action: 'unchanged' });
      continue;
    }
    if (now.length > 0 && !force) {
      throw new LayoutfsError('FAILED_PRECONDITION', `${name} already points at ${storedDigest(now[0]!)}; --force moves it to ${digest}`, { path: file });
    }
    const annotations = withNameAnnotations(descriptor.raw.annotations as Record<string, unknown> | undefined, { refName: name });
    // Its position is known once the kept entries are, below.
    const entry = validEntry({ ...descriptor.raw, annotations }, 0);
    added.delete(name);
    added.set(name, entry);
    current.set(name, [entry]);
    changes.push(now.length > 0 ? { name, digest, previous: storedDigest(now[0]!), action: 'moved' } : { name, digest, action: 'added' });
  }
  if (added.size === 0) return { entries: [...entries], changes };
  const kept = entries.filter((e) => e.name === undefined || !added.has(e.name));
  for (const e of added.values()) kept.push({ ...e, position: kept.length });
  return { entries: kept, changes };
}

/** A new name (`tag`, `import --ref`) must be inside the image-spec ref.name grammar: INVALID_ARGUMENT otherwise. */
export function assertRefNameGrammar(name: string): void {
  if (!isImageSpecRefName(name)) {
    throw new LayoutfsError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not a usable reference name: outside the image-spec ref.name grammar (components of [A-Za-z0-9] joined by - . _ : @ + or --, separated by /)`);
  }
}

/** `layoutfs tag`: gives the image named `from` the name `to` as well. */
export async function tagReference(storeRoot: string, from: string, to: string, force: boolean): Promise<NameChange> {
  assertRefNameGrammar(to);
  return updateIndex(storeRoot, (index) => {
    const source = namedEntry(index, from);
    const { entries, changes } = setNames(index.entries, [{ name: to, descriptor: source.descriptor }], force, index.file);
    return { entries, result: changes[0]! };
  });
}

/** `layoutfs rm`: removes names (every entry carrying them); blobs stay until gc. */
export async function removeReferences(storeRoot: string, names: string[]): Promise<{ removed: { name: string; digest: string }[]; missing: string[] }> {
  return updateIndex(storeRoot, (index) => {
    const wanted = new Set(names);
    const removed: { name: string; digest: string }[] = [];
    const entries = index.entries.filter((e) => {
      if (e.name === undefined || !wanted.has(e.name)) return true;
      removed.push({ name: e.name, digest: storedDigest(e) });
      return false;
    });
    const gone = new Set(removed.map((r) => r.name));
    return { entries, result: { removed, missing: names.filter((n) => !gone.has(n)) } };
  });
}
