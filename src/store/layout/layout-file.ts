import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileError, LayoutfsError, parseJson } from '../../errors.js';

const MAX_LAYOUT_FILE = 64 * 1024;

/** Checks `oci-layout`: a JSON object whose imageLayoutVersion is exactly "1.0.0". */
export async function checkLayoutFile(storeRoot: string): Promise<void> {
  const file = join(storeRoot, 'oci-layout');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw fileError(err, file, { ENOENT: 'missing: an OCI image layout needs an oci-layout file' }, (why) => `cannot read (${why})`);
  }
  if (bytes.length > MAX_LAYOUT_FILE) {
    throw new LayoutfsError('FAILED_PRECONDITION', `larger than ${MAX_LAYOUT_FILE} bytes`, { path: file });
  }
  const json = parseJson(bytes, { path: file });
  const version = (json as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof json !== 'object' || json === null || Array.isArray(json) || version !== '1.0.0') {
    throw new LayoutfsError('FAILED_PRECONDITION',
      `imageLayoutVersion must be exactly "1.0.0", found ${JSON.stringify(version)}`, { path: file });
  }
}
