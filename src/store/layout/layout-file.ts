import { join } from 'node:path';
import { errnoOf, fileError, isLayoutfsError, LayoutfsError, parseJson } from '../../errors.js';
import { readBeneath, safeRoot, type SafeRoot } from '../safe-open.js';

const MAX_LAYOUT_FILE = 64 * 1024;

/** Checks `oci-layout`: a JSON object whose imageLayoutVersion is exactly "1.0.0". */
export async function checkLayoutFile(storeRoot: string | SafeRoot): Promise<void> {
  const root = typeof storeRoot === 'string' ? await safeRoot(storeRoot) : storeRoot;
  const file = join(root.path, 'oci-layout');
  let bytes: Buffer;
  try {
    // Bounded while reading: `oci-layout` -> /dev/zero is refused, never read.
    ({ bytes } = await readBeneath(root, 'oci-layout', 'oci-layout', MAX_LAYOUT_FILE));
  } catch (err) {
    if (isLayoutfsError(err, 'RESOURCE_EXHAUSTED')) throw new LayoutfsError('FAILED_PRECONDITION', `larger than ${MAX_LAYOUT_FILE} bytes`, { path: file });
    if (errnoOf((err as Error).cause) === 'ENOENT') throw new LayoutfsError('NOT_FOUND', 'missing: an OCI image layout needs an oci-layout file', { path: file, cause: err });
    if (err instanceof LayoutfsError) throw err;
    throw fileError(err, file, {}, (why) => `cannot read (${why})`);
  }
  const json = parseJson(bytes, { path: file });
  const version = (json as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof json !== 'object' || json === null || Array.isArray(json) || version !== '1.0.0') {
    throw new LayoutfsError('FAILED_PRECONDITION',
      `imageLayoutVersion must be exactly "1.0.0", found ${JSON.stringify(version)}`, { path: file });
  }
}
