import { createReadStream } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { posix } from 'node:path';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { fileError, LayoutfsError, parseJson } from '../errors.js';
import { parseDescriptor } from '../oci/descriptor.js';
import { digestOfBlobFile, isDigestAlgorithm, type Digest } from '../oci/digest.js';
import { normalizeDockerName } from '../oci/docker-name.js';
import { MediaTypes } from '../oci/media-types.js';
import { fullNameOf, refNameOf } from '../oci/name-annotations.js';
import { ingestBlob, ingestStream, touchBlob, type ByteSource } from '../store/blobs/blob-ingest.js';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../store/blobs/blob-reader.js';
import { runImport, type ImportOptions, type ImportReport, type ImportSource, type SourceImage } from '../store/import/import-pipeline.js';
import { openStore } from '../store/store-reader.js';
import { closeFd, readFd } from '../store/blobs/fd-io.js';
import { openInput } from '../store/safe-open.js';
import { assertWritable } from '../store/lock.js';
import { DEFAULT_MAX_INDEX_BYTES } from '../store/index/read-index.js';

/** Decompressed bytes one archive may expand to (a gzip bomb stops here). */
export const DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 ** 3;

/** JSON entries of one archive kept in memory, all together (index.json's own limit is 64 MiB). */
export const MAX_ARCHIVE_JSON_BYTES = 96 * 1024 * 1024;

export interface ArchiveImportOptions extends ImportOptions {
  maxUnpackedBytes?: number;
}

/** Counts bytes through the stream and fails past `limit`. */
function byteLimit(limit: number, file: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new LayoutfsError('RESOURCE_EXHAUSTED', `expands to more than ${limit} bytes (a gzip bomb?); see --max-unpacked-bytes`, { path: file }));
      else cb(null, chunk);
    },
  });
}

async function readAll(entry: ByteSource, limit: number, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of entry) {
    size += c.length;
    if (size > limit) throw new LayoutfsError('RESOURCE_EXHAUSTED', `${what} is over the limit of ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** An entry name inside the archive, or an error for names that would leave it (tar-slip). */
function safeName(name: string, file: string): string {
  const n = posix.normalize(name.replace(/^\.\/+/, ''));
  if (name.startsWith('/') || n === '..' || n.startsWith('../') || name.includes('\0')) {
    throw new LayoutfsError('INVALID_ARGUMENT', `entry ${JSON.stringify(name)} points outside the archive (tar-slip); nothing was imported`, { path: file });
  }
  return n.replace(/\/$/, '');
}

/** What one pass over an archive found: its images, and the bytes it wrote and went through. */
interface ArchivePass {
  images: SourceImage[];
  written: number;
  seen: number;
}

/**
 * Reads an OCI archive (also gzip-compressed; also Docker 25+ `docker save`, an OCI layout with a
 * manifest.json) or a legacy `docker save` tar as a stream: never extracted to a temp tree. Every
 * file is ingested into the store as it passes (blobs/<alg>/<hex> checked against its name; legacy
 * layer tars hashed to find theirs); JSON files are kept in memory up to a limit. Legacy images
 * get their OCI config and manifest written at the end.
 */
async function readArchive(storeRoot: string, file: string, options: ArchiveImportOptions, progress: boolean): Promise<ArchivePass> {
  // What the store's filesystem can take: an entry declaring more is refused before it is read.
  const fs = await statfs(storeRoot);
  const room = fs.bavail * fs.bsize;
  const head = Buffer.alloc(2);
  // The safe open (store/safe-open.ts): a FIFO or a device (`/dev/zero`) is refused, never read forever.
  const opened = await openInput(file, 'the archive');
  try {
    await readFd(opened.fd, head, 0, 2, 0);
  } catch (err) {
    await closeFd(opened.fd);
    throw fileError(err, file, {}, (why) => `cannot read the archive (${why})`);
  }
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;

  // Loaded here, not at start-up: tar-stream alone adds 0.13 s to every command's start.
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  const input = createReadStream(file, { fd: opened.fd });
  if (progress) {
    options.onStart?.(opened.stat.size);
    input.on('data', (chunk: string | Buffer) => options.onProgress?.(chunk.length));
  }
  const unpacked = gzipped ? input.pipe(createGunzip()) : input;
  const maxUnpacked = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const limited = unpacked.pipe(byteLimit(maxUnpacked, file));

  for (const s of [input, unpacked]) s.on('error', (err: Error) => limited.destroy(err));
  limited.pipe(extract);
  limited.on('error', (err: Error) => extract.destroy(err));

  const json = new Map<string, Buffer>();
  const files = new Map<string, { digest: Digest; size: number }>();
  const links = new Map<string, string>();
  let bytesWritten = 0;
  let bytesSeen = 0;
  let jsonBytes = 0;
  try {
    for await (const entry of extract) {
      const name = safeName(entry.header.name, file);
      // tar-stream (streamx) entries yield Buffers.
      const data = entry as unknown as ByteSource;
      const type = entry.header.type;
      if (type === 'symlink' || type === 'link') {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- tar-stream types say string, but an empty link name decodes to null
        const target = type === 'symlink' ? posix.join(posix.dirname(name), entry.header.linkname ?? '') : entry.header.linkname ?? '';
        links.set(name, safeName(target, file));
      } else if (type === 'file' || type === 'contiguous-file') {
        const size = entry.header.size;
        // The size a header declares is known before its first byte: a bomb is refused here,
        // not after writing (and fsyncing) what it expands to.
        if (bytesSeen + size > maxUnpacked || size > room - bytesWritten) {
          throw new LayoutfsError('RESOURCE_EXHAUSTED', `archive entry ${name} declares ${size} bytes, more than ${size > room - bytesWritten
            ? `the ${room - bytesWritten} bytes free for the store` : `--max-unpacked-bytes (${maxUnpacked}) allows`}; nothing was imported`, { path: file });
        }
        const [top, alg, hex] = name.split('/');
        const blobDigest = top === 'blobs' && alg && hex && isDigestAlgorithm(alg) ? digestOfBlobFile(alg, hex) : undefined;
        if (blobDigest) {
          const r = await ingestBlob(storeRoot, { digest: blobDigest, size }, () => data);
          files.set(name, { digest: blobDigest, size });
          bytesWritten += r.written;
          bytesSeen += size;
        } else if (!name.includes('/') && (name.endsWith('.json') || name === 'oci-layout' || name === 'repositories')) {
          // Only top-level documents can matter (index.json, manifest.json, legacy <hex>.json
          // configs), and all of them together stay under a cap: 400 entries of 4 MiB are refused.
          const bytes = await readAll(data, name === 'index.json' ? DEFAULT_MAX_INDEX_BYTES : DEFAULT_MAX_DOCUMENT_BYTES, `archive entry ${name}`);
          jsonBytes += bytes.length;
          if (jsonBytes > MAX_ARCHIVE_JSON_BYTES) {
            throw new LayoutfsError('RESOURCE_EXHAUSTED', `its JSON entries hold more than ${MAX_ARCHIVE_JSON_BYTES} bytes together; nothing was imported`, { path: file });
          }
          json.set(name, bytes);
        } else if (name.endsWith('.tar')) {
          // A legacy layer (`<id>/layer.tar`, `<hex>.tar`): its digest is only known once read.
          const r = await ingestStream(storeRoot, data, size, `archive entry ${name}`);
          files.set(name, { digest: r.digest, size: r.size });
          bytesWritten += r.written;
          bytesSeen += r.size;
        }
      }
      // Drain what was not read (a blob already in the store) so the next entry can come.
      entry.resume();
    }
  } catch (err) {
    extract.destroy();
    input.destroy();
    if (err instanceof LayoutfsError) throw err;
    throw new LayoutfsError('INVALID_ARGUMENT', `not a readable tar${gzipped ? ' (gzip)' : ''} archive: ${(err as Error).message}`, { path: file, cause: err });
  }
  const resolve = (name: string): string => {
    for (let i = 0, n = name; i < 16; i++) {
      const next = links.get(n);
      if (next === undefined) return n;
      n = next;
    }
    throw new LayoutfsError('INVALID_ARGUMENT', `entry ${name}: a loop of links`, { path: file });
  };

  let images: SourceImage[];
  if (json.has('index.json')) {
    images = ociImages(parseJson(json.get('index.json')!, { where: `${file}: index.json`, code: 'INVALID_ARGUMENT' }), file);
  } else if (json.has('manifest.json')) {
    images = await legacyImages(storeRoot, parseJson(json.get('manifest.json')!, { where: `${file}: manifest.json`, code: 'INVALID_ARGUMENT' }), file,
      (n) => json.get(resolve(n)), (n) => files.get(resolve(n)), (w) => (bytesWritten += w));
  } else {
    throw new LayoutfsError('INVALID_ARGUMENT', 'neither an OCI archive (index.json) nor a docker save archive (manifest.json)', { path: file });
  }
  return { images, written: bytesWritten, seen: bytesSeen };
}

/**
 * An archive as an import source: one pass streams every blob into the store (unselected ones
 * become orphans for gc); the completeness check then reads the store. Ingesting again (a gc swept
 * a blob meanwhile) reads the archive again.
 */
export async function archiveSource(storeRoot: string, file: string, options: ArchiveImportOptions = {}): Promise<ImportSource> {
  await assertWritable(storeRoot);
  const first = await readArchive(storeRoot, file, options, true);
  let written = first.written;
  const store = await openStore(storeRoot);
  return {
    path: file,
    noun: 'the archive',
    images: first.images,
    blobs: store,
    errorsNameSource: true,
    async ingest(blobs) {
      for (const [digest, size] of blobs) {
        if (!(await touchBlob(storeRoot, digest, size))) {
          written += (await readArchive(storeRoot, file, options, false)).written;
          return;
        }
      }
    },
    counters: () => ({ written, seen: first.seen }),
  };
}

/** Imports an OCI or `docker save` archive (see readArchive and runImport). */
export async function importArchive(storeRoot: string, file: string, options: ArchiveImportOptions = {}): Promise<ImportReport> {
  return runImport(storeRoot, await archiveSource(storeRoot, file, options), options);
}

/** Images of an OCI archive's index.json, named by the full name containerd/Docker record, else ref.name. */
function ociImages(index: unknown, file: string): SourceImage[] {
  const manifests = (index as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) throw new LayoutfsError('INVALID_ARGUMENT', 'index.json: "manifests" must be an array', { path: file });
  return manifests.map((m, i) => {
    const descriptor = parseDescriptor(m, `${file}: index.json manifests[${i}]`);
    const name = fullNameOf(descriptor.raw);
    const alias = refNameOf(descriptor.raw);
    return { name, alias: alias !== name ? alias : undefined, descriptor };
  });
}

/**
 * Images of a legacy `docker save` archive: manifest.json lists each image's config file and
 * layer tars. The layers become uncompressed OCI layers (their digest is their diff_id, checked
 * against the config), the config keeps its bytes, and a new OCI manifest ties them together.
 * RepoTags are Docker short names: normalized (`alpine:3` is `docker.io/library/alpine:3`).
 */
async function legacyImages(storeRoot: string, manifest: unknown, file: string, jsonOf: (n: string) => Buffer | undefined,
  fileOf: (n: string) => { digest: Digest; size: number } | undefined, wrote: (n: number) => void) {
  if (!Array.isArray(manifest)) throw new LayoutfsError('INVALID_ARGUMENT', 'manifest.json must be an array', { path: file });
  const images: SourceImage[] = [];
  for (const [i, item] of (manifest as ({ Config?: unknown; RepoTags?: unknown; Layers?: unknown } | null)[]).entries()) {
    const where = `${file}: manifest.json[${i}]`;
    if (typeof item?.Config !== 'string' || !Array.isArray(item.Layers)) throw new LayoutfsError('INVALID_ARGUMENT', `${where}: needs "Config" and "Layers"`);
    const configBytes = jsonOf(item.Config);
    if (!configBytes) throw new LayoutfsError('NOT_FOUND', `${where}: config ${item.Config} is not in the archive`);
    const config = parseJson(configBytes, { where: `${where} config`, code: 'INVALID_ARGUMENT' }) as { rootfs?: { diff_ids?: unknown } };
    const layers = (item.Layers as unknown[]).map((l) => {
      const f = typeof l === 'string' ? fileOf(l) : undefined;
      if (!f) throw new LayoutfsError('NOT_FOUND', `${where}: layer ${String(l)} is not in the archive`);
      return { mediaType: MediaTypes.ociLayer, digest: f.digest, size: f.size };
    });
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== layers.length || diffIds.some((d, j) => d !== layers[j]!.digest)) {
      throw new LayoutfsError('DATA_LOSS', `${where}: the layers' digests do not match the config's rootfs.diff_ids`);
    }
    const configDesc = { mediaType: MediaTypes.ociConfig, ...(await put(storeRoot, configBytes, wrote)) };
    const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDesc, layers }));
    const m = await put(storeRoot, manifestBytes, wrote);
    const descriptor = parseDescriptor({ mediaType: MediaTypes.ociManifest, ...m }, where);
    const tags = Array.isArray(item.RepoTags) ? (item.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    if (tags.length === 0) images.push({ name: undefined, descriptor });
    for (const t of tags) images.push({ name: normalizeDockerName(t), descriptor });
  }
  return images;
}

async function put(storeRoot: string, bytes: Buffer, wrote: (n: number) => void): Promise<{ digest: Digest; size: number }> {
  const r = await ingestStream(storeRoot, [bytes], bytes.length, 'generated document');
  wrote(r.written);
  return { digest: r.digest, size: r.size };
}
