import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, LayoutfsError, parseJson } from '../errors.js';
import { parseDescriptor } from '../oci/descriptor.js';
import { pathToRef, refToPath } from '../oci/path-mapping.js';
import { parseReference } from '../oci/reference.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { viewIndexJson } from '../view/index-json.js';

/** What earlier runs made under OUTDIR, so a re-run touches only views that changed. */
export const STATE_FILE = '.layoutfs-materialized.json';

/**
 * View path -> what is there: the identity (entryIdentity) of the entry a run made the view from,
 * complete, so a re-run can trust it as it is; or null for a view of ours to check file by file
 * (its closure lacked blobs, a run stopped while changing it, or the state is an older one).
 * Paths are not checked when read: only a removal acts on one, and it checks (isViewPath).
 */
export type MadeViews = Map<string, string | null>;

/** The paths a state file may name: what the path mapping produces, or `_digests/<alg>/<hex>`. */
const DIGEST_VIEW = /^_digests\/(sha256\/[0-9a-f]{64}|sha512\/[0-9a-f]{128})$/;
const IDENTITY = /^[A-Za-z0-9_-]{43}$/;

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
 * What earlier runs made. Identities count only when the state was made from the same store
 * (another store's files are other inodes) with the same index.json format.
 */
export function readState(out: string, storeRoot: string): MadeViews {
  const file = join(out, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return new Map();
    throw new LayoutfsError('UNAVAILABLE', `cannot read the state file (${String(errnoOf(err))})`, { path: file, cause: err });
  }
  const state = parseJson(text, { path: file, hint: 'remove it to start over' }) as { store?: unknown; format?: unknown; views?: unknown } | null;
  const views = state?.views;
  if (!Array.isArray(views)) throw new LayoutfsError('FAILED_PRECONDITION', '"views" must be an array; remove the file to start over', { path: file });
  const trusted = state?.store === storeRoot && state.format === stateFormat();
  const made: MadeViews = new Map();
  for (const item of views as unknown[]) {
    // [path, identity or null]; a bare path is the format before identities.
    const [path, id] = Array.isArray(item) ? item as unknown[] : [item];
    if (typeof path === 'string') made.set(path, trusted && typeof id === 'string' && IDENTITY.test(id) ? id : null);
  }
  return made;
}

/** Replaces the state file whole (temp, fsync, rename): a crash leaves the old state or the new one. */
export async function writeState(out: string, storeRoot: string, made: MadeViews): Promise<void> {
  await writeFileAtomic(join(out, STATE_FILE), Buffer.from(JSON.stringify({ store: storeRoot, format: stateFormat(), views: [...made] })));
}
