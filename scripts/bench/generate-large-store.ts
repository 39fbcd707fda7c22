import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes a synthetic store of `refs` references over about `blobs` blobs: each image has a
 * manifest, a config and layers drawn from a shared pool (so sharing is realistic). Blob contents
 * are small: this measures metadata work, not I/O.
 */
export function generateLargeStore(dir: string, refs: number, blobs: number): void {
  if (existsSync(join(dir, 'index.json'))) return;
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const write = (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const layerCount = Math.max(1, blobs - 2 * refs);
  const layers = Array.from({ length: layerCount }, () => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...write(randomBytes(64)) }));
  const perImage = Math.max(1, Math.round(layerCount / refs) + 2);
  const manifests = [];
  for (let i = 0; i < refs; i++) {
    const picked = [layers[i % 50]!];
    for (let j = 1; j < perImage; j++) picked.push(layers[(i * (perImage - 2) + j) % layerCount]!);
    const config = write(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: i })));
    const manifest = write(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: picked })));
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      annotations: { 'org.opencontainers.image.ref.name': `registry.example/team${i % 100}/app${i}:v${i % 7}` } });
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

const GIB = 1024 ** 3;

/** A store with one image `big:1` whose layer is a 1 GiB blob; its digest is in `layer-digest`. */
export function bigStore(dir: string): string {
  if (existsSync(join(dir, 'index.json'))) return dir;
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const chunk = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  const tmp = join(dir, 'blobs', 'sha256', 'tmp');
  const fd = openSync(tmp, 'w');
  for (let i = 0; i < GIB / chunk.length; i++) {
    chunk.writeUInt32LE(i, 0);
    hash.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${hash.digest('hex')}`, size: GIB };
  renameSync(tmp, join(dir, 'blobs', 'sha256', layer.digest.slice(7)));
  const put = (obj: unknown) => {
    const bytes = Buffer.from(JSON.stringify(obj));
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }) };
  const manifest = put({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] });
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'big:1' } }] }));
  writeFileSync(join(dir, 'layer-digest'), layer.digest);
  return dir;
}
