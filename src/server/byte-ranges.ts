/** An inclusive byte range, as in `Content-Range: bytes start-end/size`. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeRequest =
  | { kind: 'whole' }
  | { kind: 'unsatisfiable' }
  | { kind: 'ranges'; ranges: ByteRange[] };

/**
 * At most this many ranges in one request. More, or overlapping ones, get the whole
 * representation (RFC 9110 lets a server ignore Range): a multipart answer then never sends more
 * bytes than the blob has, so Range cannot amplify a small request into a large response.
 */
export const MAX_RANGES = 16;

const SPEC = /^(\d*)-(\d*)$/;

/**
 * Interprets a Range header against a representation of `size` bytes (RFC 9110 §14). Syntax it
 * does not understand means "ignore the header", as the RFC asks; only well-formed ranges that all
 * miss the representation are unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const m = /^bytes=(.+)$/i.exec(header.trim());
  if (!m) return { kind: 'whole' };
  const specs = m[1]!.split(',');
  if (specs.length > MAX_RANGES) return { kind: 'whole' };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const s = SPEC.exec(spec.trim());
    if (!s || (s[1] === '' && s[2] === '')) return { kind: 'whole' };
    if (s[1] === '') {
      // Suffix range: the last N bytes.
      const n = Number(s[2]);
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(s[1]);
    const end = s[2] === '' ? size - 1 : Number(s[2]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'whole' };
    if (start < size) ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start <= sorted[i - 1]!.end) return { kind: 'whole' };
  return { kind: 'ranges', ranges };
}
