import { parseReference } from './reference.js';

/**
 * Where a reference's view lives under the mount (docs/architecture.md "path mapping"). No path contains a
 * `:`, because skopeo (`oci:PATH:REF`) and umoci (`PATH:TAG`) split at the first one.
 *
 *   repo:tag        -> enc(repo)/enc(tag)        docker.io/library/alpine:3.11 -> docker.io/library/alpine/3.11
 *   repo@alg:hex    -> enc(repo)/@alg%3Ahex      a tag never starts with `@`, so decoding can tell them apart
 *   anything else   -> one component             3.11 -> 3.11, foo/bar -> foo%2Fbar
 *
 * Decoding: one component is the whole name; otherwise the last component is the tag (joined with
 * `:`) or, when it starts with `@`, the digest (joined with `@`). Only canonical encodings decode,
 * so every reference has exactly one path.
 */

const SAFE = /[A-Za-z0-9._+@-]/;
const ALL_SAFE = /^[A-Za-z0-9._+@-]*$/;
const RESERVED_COMPONENTS: ReadonlySet<string> = new Set(['blobs', 'index.json', 'oci-layout']);

function percent(ch: string): string {
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/** Encodes one path component; `/` is never separating inside it. */
function encodeComponent(s: string, escapeLeadingAt: boolean): string {
  let out = '';
  // Most names need no escape: one test instead of one per character.
  if (ALL_SAFE.test(s)) out = s;
  else for (const ch of s) out += SAFE.test(ch) ? ch : percent(ch);
  // Names that would escape the mount, hide as a dotfile, take layoutfs's `_` space, shadow a
  // view's own files, or read as a digest component get their first character encoded.
  const first = out.charAt(0);
  if (
    out === '.' ||
    out === '..' ||
    first === '_' ||
    RESERVED_COMPONENTS.has(out) ||
    (escapeLeadingAt && first === '@')
  ) {
    out = percent(first) + out.slice(1);
  }
  return out;
}

/**
 * Encodes a repository-like string whose `/` separate components. A `/` only separates when it
 * has a non-`/` character on both sides, so no component is ever empty.
 */
function encodeSeparated(s: string): string {
  // With no `//` and no `/` at either end, every `/` separates.
  if (!s.includes('//') && !s.startsWith('/') && !s.endsWith('/')) return s.split('/').map((p) => encodeComponent(p, false)).join('/');
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const separating = ch === '/' && i > 0 && i < s.length - 1 && s[i - 1] !== '/' && s[i + 1] !== '/';
    if (separating) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => encodeComponent(p, false)).join('/');
}

/** The view path (no leading `/`) of reference `ref`; undefined for the empty string. */
export function refToPath(ref: string): string | undefined {
  if (ref === '') return undefined;
  const parsed = parseReference(ref);
  switch (parsed.kind) {
    case 'tagged':
      return `${encodeSeparated(parsed.repository)}/${encodeComponent(parsed.tag, true)}`;
    case 'digested':
      return `${encodeSeparated(parsed.repository)}/@${encodeComponent(parsed.digest, false)}`;
    case 'single':
      return encodeComponent(ref, false);
  }
}

function decodeComponent(c: string): string | undefined {
  try {
    return decodeURIComponent(c);
  } catch {
    return undefined;
  }
}

/** The reference whose view lives at `path` (no leading `/`), or undefined when none can. */
export function pathToRef(path: string): string | undefined {
  if (path === '') return undefined;
  const components = path.split('/');
  let ref: string | undefined;
  if (components.length === 1) {
    ref = decodeComponent(path);
  } else {
    const last = components[components.length - 1]!;
    const repository = decodeComponent(components.slice(0, -1).join('/'));
    const tail = decodeComponent(last.startsWith('@') ? last.slice(1) : last);
    if (repository !== undefined && tail !== undefined) {
      ref = repository + (last.startsWith('@') ? '@' : ':') + tail;
    }
  }
  // Only the canonical spelling names a view: `%61lpine` is not `alpine`.
  return ref !== undefined && refToPath(ref) === path ? ref : undefined;
}
