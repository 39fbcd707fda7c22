import { join } from 'node:path';
import { LayoutfsError } from '../../errors.js';
import { CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION } from '../../oci/descriptor.js';
import { refToPath } from '../../oci/path-mapping.js';
import { updateIndex, type RawIndex } from './update-index.js';

type RawEntry = { digest?: unknown; annotations?: Record<string, unknown> } & Record<string, unknown>;

function nameOf(entry: unknown): unknown {
  return (entry as RawEntry | null)?.annotations?.[REF_NAME_ANNOTATION];
}

/**
 * A copy of `entry` named `name`: other annotations kept, but not the full name containerd
 * recorded for the old name (it would name the image wrongly in exports and re-imports).
 */
export function withName(entry: Record<string, unknown>, name: string): Record<string, unknown> {
  const annotations: Record<string, unknown> = { ...((entry as RawEntry).annotations ?? {}), [REF_NAME_ANNOTATION]: name };
  delete annotations[CONTAINERD_NAME_ANNOTATION];
  return { ...entry, annotations };
}

export interface NameChange {
  name: string;
  digest: string;
  /** The digest the name pointed at before, when it moved. */
  previous?: string;
  action: 'added' | 'moved' | 'unchanged';
}

/**
 * Points `name` at `entry` in `index` (mutating it): a name that already points elsewhere moves
 * only with `force`; every other entry of that name goes (one name, one image).
 */
export function setName(index: RawIndex, name: string, entry: Record<string, unknown>, force: boolean, file: string): NameChange {
  if (refToPath(name) === undefined || /[\0\n]/.test(name)) {
    throw new LayoutfsError('INVALID_ARGUMENT', `${JSON.stringify(name)} is not a usable reference name (empty, or with NUL or newline)`);
  }
  const digest = String(entry.digest);
  const current = index.manifests.filter((e) => nameOf(e) === name) as RawEntry[];
  if (current.length > 0 && current.every((e) => e.digest === digest)) return { name, digest, action: 'unchanged' };
  if (current.length > 0 && !force) {
    throw new LayoutfsError('FAILED_PRECONDITION', `${name} already points at ${String(current[0]!.digest)}; --force moves it to ${digest}`, { path: file });
  }
  index.manifests = index.manifests.filter((e) => nameOf(e) !== name);
  index.manifests.push(withName(entry, name));
  return current.length > 0 ? { name, digest, previous: String(current[0]!.digest), action: 'moved' } : { name, digest, action: 'added' };
}

/** `layoutfs tag`: gives the image named `from` the name `to` as well. */
export async function tagReference(storeRoot: string, from: string, to: string, force: boolean): Promise<NameChange> {
  const file = join(storeRoot, 'index.json');
  return updateIndex(storeRoot, (index) => {
    const source = index.manifests.find((e) => nameOf(e) === from) as Record<string, unknown> | undefined;
    if (!source) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(from)}`, { path: file });
    return setName(index, to, source, force, file);
  });
}

/** `layoutfs rm`: removes names (every entry carrying them); blobs stay until gc. */
export async function removeReferences(storeRoot: string, names: string[]): Promise<{ removed: { name: string; digest: string }[]; missing: string[] }> {
  return updateIndex(storeRoot, (index) => {
    const wanted = new Set(names);
    const removed: { name: string; digest: string }[] = [];
    index.manifests = index.manifests.filter((e) => {
      const name = nameOf(e);
      if (typeof name !== 'string' || !wanted.has(name)) return true;
      removed.push({ name, digest: String((e as RawEntry).digest) });
      return false;
    });
    const gone = new Set(removed.map((r) => r.name));
    return { removed, missing: names.filter((n) => !gone.has(n)) };
  });
}
