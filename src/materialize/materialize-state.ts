import { hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf, LayoutfsError } from '../errors.js';
import { parseDescriptor } from '../oci/descriptor.js';
import { pathToRef, refToPath } from '../oci/path-mapping.js';
import { parseReference } from '../oci/reference.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { readIntoSync } from '../store/safe-open.js';
import { viewIndexJson } from '../view/index-json.js';
import { decodeState, encodeState, type MadeViews } from './state-lines.js';

export type { MadeViews } from './state-lines.js';

/** What earlier runs made under OUTDIR, so a re-run touches only views that changed. */
export const STATE_FILE = '.layoutfs-materialized';
/**
 * The JSON state of earlier layoutfs versions: still read (never trusted), so views of references
 * removed before the upgrade are removed; the first state written replaces it.
 */
export const LEGACY_STATE_FILE = '.layoutfs-materialized.json';
/** A bound on what is read: some 3 million views. */
const MAX_STATE_BYTES = 256 * 1024 * 1024;

/** The paths a state file may name: what the path mapping produces, or `_digests/<alg>/<hex>`. */
const DIGEST_VIEW = /^_digests\/(sha256\/[0-9a-f]{64}|sha512\/[0-9a-f]{128})$/;

export function isViewPath(p: unknown): p is string {
  return typeof p === 'string' && (DIGEST_VIEW.test(p) || pathToRef(p) !== undefined);
}

/**
 * What a view is made from: its store index.json entry, whole. The entry carries the name (hence
 * the path), so a view is found unchanged by its entry alone, without mapping 50,000 names to paths.
 */
export function entryIdentity(entry: unknown): string {
  // One-shot hash: a third of createHash's time over 50,000 entries.
  return hash('sha256', JSON.stringify(entry), 'base64url');
}

/** Names whose view paths take each rule of the path mapping. */
const SAMPLE_NAMES = ['registry.example:5000/sample/app:1', 'a//b/_c:@d', 'x/y@sha256:' + '0'.repeat(64), 'Odd Name/ü', '3.11'];
let format: string | undefined;

/**
 * What this layoutfs makes of samples: the index.json of an entry and the view paths of names.
 * Kept in the state, so after an upgrade that writes index.json or maps names otherwise, every
 * view is checked once instead of trusted (a view found unchanged has its path taken from the state).
 */
function stateFormat(): string {
  return (format ??= hash('sha256', [viewIndexJson(parseDescriptor({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 1,
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, annotations: { 'org.opencontainers.image.ref.name': '1' },
  }, 'the sample entry'), parseReference(SAMPLE_NAMES[0]!)).toString(), ...SAMPLE_NAMES.map((n) => refToPath(n))].join('\n'), 'base64url'));
}

/**
 * The bytes of state file `file`, or undefined when there is none. Never followed nor waited on:
 * a symlink, FIFO or oversized file there is no state of ours, and reads as a damaged one (no bytes).
 */
function readStateFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    if (errnoOf(err) === 'ELOOP') return Buffer.alloc(0);
    throw new LayoutfsError('UNAVAILABLE', `cannot read the state file (${String(errnoOf(err))})`, { path: file, cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_STATE_BYTES) return Buffer.alloc(0);
    const bytes = Buffer.allocUnsafe(st.size);
    return bytes.subarray(0, readIntoSync(fd, bytes));
  } finally {
    closeSync(fd);
  }
}

/** The views a state of the JSON format names (`views`: paths, or [path, identity] pairs), none trusted; undefined when it is not one. */
function legacyViews(bytes: Buffer): MadeViews | undefined {
  let views: unknown;
  try {
    views = (JSON.parse(bytes.toString('utf8')) as { views?: unknown } | null)?.views;
  } catch {
    return undefined;
  }
  if (!Array.isArray(views)) return undefined;
  const made: MadeViews = new Map();
  for (const item of views as unknown[]) {
    const path = Array.isArray(item) ? (item as unknown[])[0] : item;
    // Only a removal acts on a recorded path, and only on one a view can have.
    if (isViewPath(path)) made.set(path, null);
  }
  return made;
}

/**
 * What earlier runs made. Identities count only when the state was made from the same store
 * (another store's files are other inodes) with the same format. A damaged state is not trusted at
 * all (`warn` says so): every view is checked, as in a first run.
 */
export function readState(out: string, storeRoot: string, warn: (msg: string) => void): MadeViews {
  const bytes = readStateFile(join(out, STATE_FILE));
  const legacy = bytes ? undefined : readStateFile(join(out, LEGACY_STATE_FILE));
  if (!bytes && !legacy) return new Map();
  const state = bytes ? decodeState(bytes) : undefined;
  const views = state?.views ?? (legacy && legacyViews(legacy));
  if (!views) {
    warn(`${join(out, bytes ? STATE_FILE : LEGACY_STATE_FILE)} is damaged: every view is checked file by file, and views of references removed since the last run stay`);
    return new Map();
  }
  if (state?.store !== storeRoot || state.format !== stateFormat()) for (const path of views.keys()) views.set(path, null);
  return views;
}

/**
 * Replaces the state file whole (temp, fsync, rename): a crash leaves the old state or the new one.
 * A JSON state of an earlier version goes once the new one is in.
 */
export async function writeState(out: string, storeRoot: string, made: MadeViews): Promise<void> {
  await writeFileAtomic(join(out, STATE_FILE), encodeState({ store: storeRoot, format: stateFormat(), views: made }));
  await unlink(join(out, LEGACY_STATE_FILE)).catch((err: unknown) => {
    if (errnoOf(err) !== 'ENOENT') throw new LayoutfsError('UNAVAILABLE', `cannot remove the state file of an earlier version (${String(errnoOf(err))})`, { path: join(out, LEGACY_STATE_FILE), cause: err });
  });
}
