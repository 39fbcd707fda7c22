import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileError } from '../../errors.js';
import { MediaTypes } from '../../oci/media-types.js';
import { OCI_LAYOUT_BYTES } from '../../oci/layout-bytes.js';
import { writeFileAtomic } from '../atomic-file.js';
import { checkLayoutFile } from './layout-file.js';

/** Makes `dir` an empty valid layout; on an existing layout it changes nothing (idempotent). */
export async function initStore(dir: string): Promise<{ created: boolean }> {
  try {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  } catch (err) {
    throw fileError(err, dir, {}, (why) => `cannot create the store: ${why}`, 'PERMISSION_DENIED');
  }
  let created = false;
  const exists = (f: string) => readFile(join(dir, f)).then(() => true, () => false);
  if (!(await exists('oci-layout'))) {
    await writeFileAtomic(join(dir, 'oci-layout'), OCI_LAYOUT_BYTES);
    created = true;
  }
  await checkLayoutFile(dir);
  if (!(await exists('index.json'))) {
    await writeFileAtomic(join(dir, 'index.json'), Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] })));
    created = true;
  }
  return { created };
}
