import { LayoutfsError } from '../../errors.js';
import { REF_NAME_ANNOTATION } from '../../oci/descriptor.js';
import { refToPath } from '../../oci/path-mapping.js';
import type { Finding } from '../findings.js';
import type { IndexFile, ValidEntry } from './index-model.js';

/** The longest file name (one path component) Linux filesystems take, in bytes. */
export const MAX_COMPONENT_BYTES = 255;

/** The entry a name points at: the first valid entry that carries it. */
export interface NamedEntry extends ValidEntry {
  name: string;
  /** Where the view lives (path mapping); no leading `/`. */
  viewPath: string;
}

export interface ReferenceTable {
  named: NamedEntry[];
  /** Entries without a ref.name: still roots (for `_digests/` and gc), not named views. */
  unnamed: ValidEntry[];
  findings: Finding[];
}

/** Where the view of `name` lives, or why no path can show it (said after the entry's position in its finding). */
export function viewPathOf(name: string): { viewPath: string } | { unmappable: string } {
  const viewPath = refToPath(name);
  if (viewPath === undefined) return { unmappable: ` has an empty ${REF_NAME_ANNOTATION}` };
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short path needs no counting.
  const long = viewPath.length * 3 <= MAX_COMPONENT_BYTES ? undefined : viewPath.split('/').find((c) => Buffer.byteLength(c) > MAX_COMPONENT_BYTES);
  // Linux refuses longer names (ENAMETOOLONG): the view could be listed but never opened.
  if (long !== undefined) return { unmappable: `: a component of its view path is ${Buffer.byteLength(long)} bytes, over the ${MAX_COMPONENT_BYTES} a file name may have` };
  return { viewPath };
}

/**
 * Names the entries of index.json: the first entry with a name wins, later duplicates are
 * reported; entries without a name, or with one no path can show, are reported and kept as roots.
 * `known` holds view paths of names mapped and checked before (a refresh maps only new names).
 */
export function referenceTable(index: Pick<IndexFile, 'file' | 'valid'>, known?: { get(name: string): { path: string } | undefined }): ReferenceTable {
  const indexFile = index.file;
  const named: NamedEntry[] = [];
  const unnamed: ValidEntry[] = [];
  const findings: Finding[] = [];
  const byName = new Map<string, NamedEntry>();
  for (const entry of index.valid) {
    const { descriptor, position, name } = entry;
    if (name === undefined) {
      unnamed.push(entry);
      findings.push({ kind: 'UNNAMED_ENTRY', file: indexFile, digest: descriptor.digest,
        message: `manifests[${position}] (${descriptor.digest}) has no ${REF_NAME_ANNOTATION}; shown only under _digests/` });
      continue;
    }
    const first = byName.get(name);
    if (first) {
      findings.push({ kind: 'DUPLICATE_NAME', file: indexFile, ref: name, digest: descriptor.digest,
        message: `manifests[${position}] repeats the name ${JSON.stringify(name)} of manifests[${first.position}]; the first entry wins` });
      continue;
    }
    const knownPath = known?.get(name)?.path;
    const mapped = knownPath === undefined ? viewPathOf(name) : { viewPath: knownPath };
    if ('unmappable' in mapped) {
      unnamed.push(entry);
      findings.push({ kind: 'UNMAPPABLE_NAME', file: indexFile, ref: name, digest: descriptor.digest,
        message: `manifests[${position}]${mapped.unmappable}; shown only under _digests/` });
      continue;
    }
    const n: NamedEntry = { ...entry, name, viewPath: mapped.viewPath };
    byName.set(name, n);
    named.push(n);
  }
  return { named, unnamed, findings };
}

/**
 * The one called `name` among `named` (the first), or NOT_FOUND saying where it was looked for:
 * `where.in` ("the source", "the archive") and the file. Code that has a View uses
 * view.referenceNamed.
 */
export function findReference<T extends { name?: string | undefined }>(named: readonly T[], name: string, where: { path: string; in?: string }): T {
  const found = named.find((n) => n.name === name);
  if (!found) throw notFound(name, where);
  return found;
}

function notFound(name: string, where: { path: string; in?: string }): LayoutfsError {
  return new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(name)}${where.in ? ` in ${where.in}` : ''}`, { path: where.path });
}

/**
 * The entry `name` points at, as referenceTable names it (the first valid entry carrying it, when
 * a path can show it), found without mapping every other name: a write (tag) costs comparisons.
 */
export function namedEntry(index: Pick<IndexFile, 'file' | 'valid'>, name: string): NamedEntry {
  const entry = index.valid.find((e) => e.name === name);
  const mapped = entry && viewPathOf(name);
  if (!mapped || 'unmappable' in mapped) throw notFound(name, { path: index.file });
  return { ...entry, name, viewPath: mapped.viewPath };
}
