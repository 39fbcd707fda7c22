import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LayoutfsError } from '../../errors.js';

const MAX_LAYOUT_FILE = 64 * 1024;

/** Checks `oci-layout`: a JSON object whose imageLayoutVersion is exactly "1.0.0". */
export async function checkLayoutFile(storeRoot: string): Promise<void> {
  const file = join(storeRoot, 'oci-layout');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LayoutfsError(code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE',
      code === 'ENOENT' ? 'missing: an OCI image layout needs an oci-layout file' : `cannot read (${code})`,
      { path: file, cause: err });
  }
  if (bytes.length > MAX_LAYOUT_FILE) {
    throw new LayoutfsError('FAILED_PRECONDITION', `larger than ${MAX_LAYOUT_FILE} bytes`, { path: file });
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new LayoutfsError('FAILED_PRECONDITION', 'not valid JSON', { path: file, cause: err });
  }
  const version = (json as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof json !== 'object' || json === null || Array.isArray(json) || version !== '1.0.0') {
    throw new LayoutfsError('FAILED_PRECONDITION',
      `imageLayoutVersion must be exactly "1.0.0", found ${JSON.stringify(version)}`, { path: file });
  }
}
