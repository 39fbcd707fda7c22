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
    if (knownPath !== undefined) {
      const n: NamedEntry = { ...entry, name, viewPath: knownPath };
      byName.set(name, n);
      named.push(n);
      continue;
    }
    const viewPath = refToPath(name);
    if (viewPath === undefined) {
      unnamed.push(entry);
      findings.push({ kind: 'UNMAPPABLE_NAME', file: indexFile, ref: name, digest: descriptor.digest,
        message: `manifests[${position}] has an empty ${REF_NAME_ANNOTATION}; shown only under _digests/` });
      continue;
    }
    const long = viewPath.split('/').find((c) => Buffer.byteLength(c) > MAX_COMPONENT_BYTES);
    if (long !== undefined) {
      // Linux refuses longer names (ENAMETOOLONG): the view could be listed but never opened.
      unnamed.push(entry);
      findings.push({ kind: 'UNMAPPABLE_NAME', file: indexFile, ref: name, digest: descriptor.digest,
        message: `manifests[${position}]: a component of its view path is ${Buffer.byteLength(long)} bytes, over the ${MAX_COMPONENT_BYTES} a file name may have; shown only under _digests/` });
      continue;
    }
    const n: NamedEntry = { ...entry, name, viewPath };
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
  if (!found) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(name)}${where.in ? ` in ${where.in}` : ''}`, { path: where.path });
  return found;
}
