import { LayoutfsError } from '../../errors.js';
import type { Descriptor } from '../../oci/descriptor.js';
import { withNameAnnotations } from '../../oci/name-annotations.js';
import { refToPath } from '../../oci/path-mapping.js';
import { isImageSpecRefName } from '../../oci/reference.js';
import { storedDigest, validEntry, type IndexEntry } from './index-model.js';
import { findReference, referenceTable } from './reference-table.js';
import { updateIndex } from './update-index.js';

export interface NameChange {
  name: string;
  digest: string;
  /** The digest the name pointed at before, when it moved. */
  previous?: string;
  action: 'added' | 'moved' | 'unchanged';
}

/**
 * `entries` with `name` pointing at `descriptor`: a name that already points elsewhere moves
 * only with `force`; every other entry of that name goes (one name, one image). The new entry is
 * the descriptor as stored, named `name` (withNameAnnotations), at the end.
 */
export function setName(entries: readonly IndexEntry[], name: string, descriptor: Descriptor, force: boolean, file: string): { entries: IndexEntry[]; change: NameChange } {
  if (refToPath(name) === undefined || /[\0\n]/.test(name)) {
    throw new LayoutfsError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not a usable reference name (empty, or with NUL or newline)`);
  }
  const digest: string = descriptor.digest;
  const current = entries.filter((e) => e.name === name);
  if (current.length > 0 && current.every((e) => storedDigest(e) === digest)) return { entries: [...entries], change: { name, digest, action: 'unchanged' } };
  if (current.length > 0 && !force) {
    throw new LayoutfsError('FAILED_PRECONDITION', `${name} already points at ${storedDigest(current[0]!)}; --force moves it to ${digest}`, { path: file });
  }
  const kept = entries.filter((e) => e.name !== name);
  const annotations = withNameAnnotations(descriptor.raw.annotations as Record<string, unknown> | undefined, { refName: name });
  kept.push(validEntry({ ...descriptor.raw, annotations }, kept.length));
  const change: NameChange = current.length > 0 ? { name, digest, previous: storedDigest(current[0]!), action: 'moved' } : { name, digest, action: 'added' };
  return { entries: kept, change };
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
    const source = findReference(referenceTable(index).named, from, { path: index.file });
    const { entries, change } = setName(index.entries, to, source.descriptor, force, index.file);
    return { entries, result: change };
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
