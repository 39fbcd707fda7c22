import { LayoutfsError } from '../../errors.js';
import { REF_NAME_ANNOTATION } from '../../oci/descriptor.js';
import { refToPath } from '../../oci/path-mapping.js';
import type { Finding } from '../findings.js';
import { countBefore, isValidEntry, movedEntry, type IndexFile, type ValidEntry } from './index-model.js';
import { spliced } from './spliced.js';

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
 * `entry` named `name` at `viewPath`, written out field by field: a spread copy
 * (`{ ...entry, name, viewPath }`) gave every entry its own hidden class, 200 bytes more each
 * and slower collections (a heap snapshot of ls at 50,000 references: 50,000 maps and descriptor arrays).
 */
function namedAt(entry: ValidEntry, name: string, viewPath: string, position = entry.position): NamedEntry {
  return { position, json: entry.json, descriptor: entry.descriptor, name, viewPath };
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

/** The finding of an entry that names no view: no name, or one no path can show. */
function unnamedFinding(indexFile: string, entry: ValidEntry, unmappable: string | undefined): Finding {
  const { descriptor, position, name } = entry;
  return unmappable === undefined
    ? { kind: 'UNNAMED_ENTRY', file: indexFile, digest: descriptor.digest,
      message: `manifests[${position}] (${descriptor.digest}) has no ${REF_NAME_ANNOTATION}; shown only under _digests/` }
    : { kind: 'UNMAPPABLE_NAME', file: indexFile, ref: name, digest: descriptor.digest, message: `manifests[${position}]${unmappable}; shown only under _digests/` };
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
      findings.push(unnamedFinding(indexFile, entry, undefined));
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
      findings.push(unnamedFinding(indexFile, entry, mapped.unmappable));
      continue;
    }
    const n = namedAt(entry, name, mapped.viewPath);
    byName.set(name, n);
    named.push(n);
  }
  return { named, unnamed, findings };
}

/** Which of a table's entries went and came with a change of index.json's entries. */
export interface TableChange {
  table: ReferenceTable;
  /** Where the named entries that went were, and where those that came are, in `named`: [from, to) before, [from, from + came) now. */
  named: { from: number; to: number; came: number };
  /** The valid entries that went (of the previous index) and came (of this one). */
  validGone: ValidEntry[];
  validCame: ValidEntry[];
}

/**
 * The table of `index` from `previous`, the table of the index read before it (`before`), when
 * the read says which entries changed (`index.changed`): the table referenceTable would make, at
 * the cost of the change (and of moving the entries after it when their count changed). `named`
 * says whether a name has an entry in `previous`. Undefined when names could interplay beyond
 * the change (a name given twice, before or now): the caller names every entry.
 */
export function referenceTableAfter(previous: ReferenceTable, before: Pick<IndexFile, 'entries'>, index: IndexFile,
  named: (name: string) => boolean): TableChange | undefined {
  const change = index.changed;
  if (!change || previous.findings.some((f) => f.kind === 'DUPLICATE_NAME')) return undefined;
  const { from, to, count } = change;
  const moved = count - (to - from);
  const validGone = before.entries.slice(from, to).filter(isValidEntry);
  const validCame = index.entries.slice(from, from + count).filter(isValidEntry);
  const n0 = countBefore(previous.named, from);
  const n1 = countBefore(previous.named, to);
  const goneNames = new Set(previous.named.slice(n0, n1).map((e) => e.name));
  const middle = referenceTable({ file: index.file, valid: validCame });
  if (middle.findings.some((f) => f.kind === 'DUPLICATE_NAME')) return undefined;
  // A name that came must be new, or one whose entry went: else it is given twice now.
  for (const e of middle.named) if (named(e.name) && !goneNames.has(e.name)) return undefined;
  const u0 = countBefore(previous.unnamed, from);
  const u1 = countBefore(previous.unnamed, to);
  const after = previous.unnamed.slice(u1).map((e) => (moved === 0 ? e : movedEntry(e, e.position + moved) as ValidEntry));
  // With no name given twice, each unnamed entry has one finding, in order: those after the change are made again when they moved.
  const afterFindings = moved === 0 ? previous.findings.slice(u1)
    : after.map((e) => unnamedFinding(index.file, e, e.name === undefined ? undefined : (viewPathOf(e.name) as { unmappable: string }).unmappable));
  return {
    table: {
      named: spliced(previous.named, n0, n1, middle.named, moved === 0 ? undefined : (e) => namedAt(e, e.name, e.viewPath, e.position + moved)),
      unnamed: [...previous.unnamed.slice(0, u0), ...middle.unnamed, ...after],
      findings: [...previous.findings.slice(0, u0), ...middle.findings, ...afterFindings],
    },
    named: { from: n0, to: n1, came: middle.named.length },
    validGone,
    validCame,
  };
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
  return namedAt(entry, name, mapped.viewPath);
}
