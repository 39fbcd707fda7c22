import { createHash } from 'node:crypto';
import { LayoutfsError } from '../errors.js';
import { formatPlatform, type Descriptor, type Platform } from '../oci/descriptor.js';
import { isRealPlatform, normalizePlatform, parsePlatformSpec, platformMatches } from '../oci/platform.js';
import { digestAlgorithm, digestEncoded, type Digest } from '../oci/digest.js';
import { isIndexType, MediaTypes } from '../oci/media-types.js';
import { withNameAnnotations } from '../oci/name-annotations.js';
import { DEFAULT_BARE_REPOSITORY, isConformingTag, parseReference, viewRefName } from '../oci/reference.js';
import type { Closure, ClosureBlob, DocumentReader } from '../store/graph/closure.js';
import { OCI_LAYOUT_BYTES } from '../oci/layout-bytes.js';
import { padding, TAR_END, tarHeader } from './tar-header.js';

/** One image going into an archive: its full reference name and root descriptor. */
export interface ArchiveImage {
  name: string;
  root: Descriptor;
}

/** An entry of the archive: where it starts, its header bytes, and what follows them. */
export interface PlannedEntry {
  offset: number;
  header: Buffer;
  content: { kind: 'bytes'; bytes: Buffer } | { kind: 'blob'; digest: Digest; size: number };
  /** Offset just past the entry's content padding. */
  end: number;
}

/**
 * The layout of a synthetic tar, computed, not copied: every header and synthetic file is
 * known, blobs are referred to by digest. Same store state, same plan, same bytes: fixed order,
 * mtime 0, owner 0, modes 0444/0555.
 */
export interface ArchivePlan {
  size: number;
  entries: PlannedEntry[];
  /** A strong validator: a hash of every header and blob digest in order. */
  etag: string;
}

export interface PlanOptions {
  /** `os/arch[/variant]`: narrow multi-platform images to that manifest. */
  platform?: string;
  /**
   * Referrers to carry (signatures, SBOMs): given the archive's blobs, adds the closures of the
   * artifacts attached to them and returns their root descriptors. They become unnamed
   * index.json entries, which import brings back with their subjects.
   */
  referrers?: (blobs: Map<Digest, ClosureBlob>) => Promise<Descriptor[]>;
  /** The platform a manifest's config records, so `platform` can refuse a single-platform image of another one. */
  configPlatform?: (manifest: Descriptor) => Promise<Platform | undefined>;
}

const DEFAULT_PLATFORM = normalizePlatform({ os: 'linux', architecture: 'amd64' });

/**
 * The manifest of `root` for `platform` (an index is narrowed; a manifest is itself, when it is of
 * that platform), matched as containerd does (`linux/arm64` is `linux/arm64/v8`). Without a
 * platform: linux/amd64, else the first. A platform the image lacks is an error.
 */
export async function narrow(root: Descriptor, docs: DocumentReader, platform: string | undefined, name: string,
  configPlatform?: (manifest: Descriptor) => Promise<Platform | undefined>): Promise<Descriptor> {
  const wanted = platform === undefined ? undefined : parsePlatformSpec(platform);
  if (platform !== undefined && !wanted) throw new LayoutfsError('INVALID_ARGUMENT', `${JSON.stringify(platform)} is not a platform (os/arch[/variant])`);
  if (!isIndexType(root.mediaType)) {
    const have = wanted && (root.platform ?? await configPlatform?.(root));
    if (wanted && have && !platformMatches(wanted, have)) {
      throw new LayoutfsError('NOT_FOUND', `${name} has no ${platform} manifest (it is ${formatPlatform(have)} only)`);
    }
    return root;
  }
  const children = (await docs.readDocument(root)).children.filter((c) => isRealPlatform(c.platform));
  const pick = wanted
    ? children.find((c) => platformMatches(wanted, c.platform!))
    : children.find((c) => platformMatches(DEFAULT_PLATFORM, c.platform!)) ?? children[0];
  if (!pick) {
    throw new LayoutfsError('NOT_FOUND', `${name} has no ${platform ?? 'linux/amd64'} manifest (it has ${children.map((c) => formatPlatform(c.platform!)).join(', ') || 'none'})`);
  }
  return isIndexType(pick.mediaType) ? narrow(pick, docs, platform, name, configPlatform) : pick;
}

function fileEntry(name: string, bytes: Buffer): { header: Buffer; content: PlannedEntry['content']; size: number } {
  return { header: tarHeader({ name, size: bytes.length, mode: 0o444 }), content: { kind: 'bytes', bytes }, size: bytes.length };
}

/**
 * Plans the archive of `images`: an OCI image layout (oci-layout, index.json with one entry per
 * image, each blob once) plus Docker's manifest.json and repositories, so docker/podman load,
 * ctr import and skopeo oci-archive:/docker-archive: all read it. With `platform`, indexes
 * become their one manifest for that platform (a valid single-manifest image).
 */
export async function planArchive(images: ArchiveImage[], docs: DocumentReader, closureOf: (root: Descriptor) => Promise<Closure>,
  options: PlanOptions = {}): Promise<ArchivePlan> {
  const blobs = new Map<Digest, number>();
  const indexEntries: Record<string, unknown>[] = [];
  const dockerEntries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const blobName = (d: Digest) => `blobs/${digestAlgorithm(d)}/${digestEncoded(d)}`;
  for (const image of images) {
    const root = options.platform ? await narrow(image.root, docs, options.platform, image.name, options.configPlatform) : image.root;
    const closure = await closureOf(root);
    const lost = closure.missing[0] ?? closure.problems[0];
    if (lost) {
      throw new LayoutfsError('NOT_FOUND', `${image.name} is incomplete in the store (${'message' in lost ? lost.message : `${lost.digest} is missing`}); an archive of it would not load`);
    }
    for (const [d, b] of closure.blobs) blobs.set(d, b.size);
    const ref = parseReference(image.name);
    // One image: its tag, like a view; several: the full names (tags of different repositories may clash).
    const annotations = withNameAnnotations(root.annotations, {
      refName: images.length === 1 ? viewRefName(ref) : image.name,
      fullName: ref.kind !== 'single' ? image.name : undefined,
    });
    indexEntries.push({ mediaType: root.mediaType, digest: root.digest, size: root.size,
      ...(root.platform ? { platform: root.platform } : {}), annotations: Object.fromEntries(Object.entries(annotations).sort()) });

    // Docker's manifest.json holds one manifest per image; an index without a usable platform
    // manifest gets no Docker entry (OCI readers still see it whole).
    const manifest = await narrow(root, docs, options.platform, image.name, options.configPlatform).catch(() => undefined);
    const doc = manifest && await docs.readDocument(manifest);
    if (manifest && doc?.config) {
      const layers = doc.children.filter((c) => c.digest !== doc.config!.digest);
      // A bare tag gets the bare repository, as the registry serves it: Docker and podman load
      // leave an image with no repository untagged.
      const tag = ref.kind === 'tagged' ? ref.raw : ref.kind === 'single' && isConformingTag(ref.raw) ? `${DEFAULT_BARE_REPOSITORY}:${ref.raw}` : undefined;
      dockerEntries.push({ Config: blobName(doc.config.digest), RepoTags: tag ? [tag] : [], Layers: layers.map((l) => blobName(l.digest)) });
      if (ref.kind === 'tagged' && layers.length > 0) {
        (repositories[ref.repository] ??= {})[ref.tag] = digestEncoded(layers[layers.length - 1]!.digest);
      }
      // The manifest a Docker reader uses must be in the archive even when the root is an index.
      const mc = await closureOf(manifest);
      for (const [d, b] of mc.blobs) blobs.set(d, b.size);
    }
  }

  if (options.referrers) {
    const held = new Map<Digest, ClosureBlob>([...blobs].map(([d, size]) => [d, { size, mediaType: '' }]));
    for (const r of await options.referrers(held)) {
      const rest = Object.fromEntries(Object.entries(r.raw).filter(([key]) => key !== 'annotations'));
      const annotations = withNameAnnotations(r.annotations, {});
      indexEntries.push({ ...rest, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) });
    }
    for (const [d, b] of held) blobs.set(d, b.size);
  }

  const planned: { header: Buffer; content: PlannedEntry['content']; size: number }[] = [
    fileEntry('oci-layout', OCI_LAYOUT_BYTES),
    fileEntry('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: indexEntries }))),
    fileEntry('manifest.json', Buffer.from(JSON.stringify(dockerEntries))),
    fileEntry('repositories', Buffer.from(JSON.stringify(repositories))),
  ];
  const algs = [...new Set([...blobs.keys()].map(digestAlgorithm))].sort();
  planned.push({ header: tarHeader({ name: 'blobs/', size: 0, type: '5', mode: 0o555 }), content: { kind: 'bytes', bytes: Buffer.alloc(0) }, size: 0 });
  for (const alg of algs) {
    planned.push({ header: tarHeader({ name: `blobs/${alg}/`, size: 0, type: '5', mode: 0o555 }), content: { kind: 'bytes', bytes: Buffer.alloc(0) }, size: 0 });
    for (const d of [...blobs.keys()].filter((x) => digestAlgorithm(x) === alg).sort()) {
      const size = blobs.get(d)!;
      planned.push({ header: tarHeader({ name: blobName(d), size, mode: 0o444 }), content: { kind: 'blob', digest: d, size }, size });
    }
  }
  const entries: PlannedEntry[] = [];
  const etag = createHash('sha256');
  let offset = 0;
  for (const p of planned) {
    const end = offset + p.header.length + p.size + padding(p.size);
    entries.push({ offset, header: p.header, content: p.content, end });
    etag.update(p.header);
    etag.update(p.content.kind === 'blob' ? p.content.digest : p.content.bytes);
    offset = end;
  }
  entries.push({ offset, header: TAR_END, content: { kind: 'bytes', bytes: Buffer.alloc(0) }, end: offset + TAR_END.length });
  return { size: offset + TAR_END.length, entries, etag: `sha256:${etag.digest('hex')}` };
}

