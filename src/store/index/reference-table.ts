import { REF_NAME_ANNOTATION, type Descriptor } from '../../oci/descriptor.js';
import { refToPath } from '../../oci/path-mapping.js';
import type { Finding } from '../findings.js';
import type { IndexEntry } from './read-index.js';

export interface NamedEntry {
  name: string;
  /** Where the view lives (path mapping); no leading `/`. */
  viewPath: string;
  descriptor: Descriptor;
  position: number;
}

export interface ReferenceTable {
  named: NamedEntry[];
  /** Entries without a ref.name: still roots (for `_digests/` and gc), not named views. */
  unnamed: IndexEntry[];
  findings: Finding[];
}

/**
 * Names the entries of index.json: the first entry with a name wins, later duplicates are
 * reported; entries without a name, or with one no path can show, are reported and kept as roots.
 */
export function referenceTable(indexFile: string, entries: readonly IndexEntry[]): ReferenceTable {
  const named: NamedEntry[] = [];
  const unnamed: IndexEntry[] = [];
  const findings: Finding[] = [];
  const byName = new Map<string, NamedEntry>();
  for (const entry of entries) {
    const { descriptor, position } = entry;
    const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
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
    const viewPath = refToPath(name);
    if (viewPath === undefined) {
      unnamed.push(entry);
      findings.push({ kind: 'UNMAPPABLE_NAME', file: indexFile, ref: name, digest: descriptor.digest,
        message: `manifests[${position}] has an empty ${REF_NAME_ANNOTATION}; shown only under _digests/` });
      continue;
    }
    const n: NamedEntry = { name, viewPath, descriptor, position };
    byName.set(name, n);
    named.push(n);
  }
  return { named, unnamed, findings };
}
