/** Media types layoutfs understands; any other string is still a valid (opaque) media type. */
export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  MediaTypes.ociManifest,
  MediaTypes.dockerManifest,
  MediaTypes.ociArtifactManifest,
]);
const FOREIGN_LAYER_TYPES: ReadonlySet<string> = new Set([
  MediaTypes.ociLayerNondistributable,
  MediaTypes.ociLayerNondistributableGzip,
  MediaTypes.dockerForeignLayerGzip,
]);

/** An image index or a Docker manifest list: its children are manifests. */
export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

/** An image (or artifact) manifest: its children are a config and layers (or blobs). */
export function isManifestType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

/** Either kind of JSON document whose children we walk. */
export function isWalkableType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType) || MANIFEST_TYPES.has(mediaType);
}

/** Non-distributable layers are often absent from a layout on purpose. */
export function isForeignLayerType(mediaType: string): boolean {
  return FOREIGN_LAYER_TYPES.has(mediaType);
}
