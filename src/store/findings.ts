/**
 * Structured findings about a store: what `ls` warns about and what fsck reports.
 * Not errors: a store with findings is still served.
 */
export type FindingKind =
  | 'DUPLICATE_NAME'
  | 'UNNAMED_ENTRY'
  | 'INVALID_ENTRY'
  | 'UNMAPPABLE_NAME'
  | 'NONCONFORMING_NAME'
  | 'MISSING_BLOB'
  | 'BAD_DOCUMENT'
  | 'BAD_LAYOUT'
  | 'DIGEST_MISMATCH'
  | 'ORPHAN_BLOB'
  | 'TEMP_FILE'
  | 'NOT_REGULAR'
  | 'SIZE_MISMATCH';

/** Findings that mean lost or wrong data; the others are garbage gc removes, or naming to tidy. */
export const DAMAGE: ReadonlySet<FindingKind> = new Set(['INVALID_ENTRY', 'MISSING_BLOB', 'BAD_DOCUMENT', 'BAD_LAYOUT', 'DIGEST_MISMATCH',
  'NOT_REGULAR', 'SIZE_MISMATCH']);

export interface Finding {
  kind: FindingKind;
  /** The file the finding is about (index.json, a blob path). */
  file: string;
  message: string;
  /** The reference it concerns, when there is one. */
  ref?: string;
  digest?: string;
}
