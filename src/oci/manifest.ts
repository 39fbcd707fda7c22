import { LayoutfsError, parseJson } from '../errors.js';
import { parseDescriptor, type Descriptor } from './descriptor.js';
import { isIndexType, isManifestType, MediaTypes } from './media-types.js';

/** What the graph walk needs of a manifest or index: the descriptors it points at. */
export interface ParsedDocument {
  mediaType: string;
  /** Manifests of an index; config and layers of a manifest; blobs of an artifact manifest. */
  children: Descriptor[];
  /** Index children are manifests (walked further); manifest children are leaves. */
  childrenAreManifests: boolean;
  config?: Descriptor;
  subject?: Descriptor;
  artifactType?: string;
}

function fail(where: string, rule: string): never {
  throw new LayoutfsError('DATA_LOSS', `${where}: ${rule}`);
}

function descriptorList(value: unknown, where: string, field: string): Descriptor[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(where, `"${field}" must be an array`);
  return value.map((v, i) => parseDescriptor(v, `${where} ${field}[${i}]`));
}

/**
 * Parses the JSON bytes of an index or manifest whose descriptor said `mediaType`. A `mediaType`
 * field inside the document, when present, must agree (the spec's guard against confusion).
 */
export function parseDocument(mediaType: string, bytes: Buffer, where: string): ParsedDocument {
  const json = parseJson(bytes, { where, code: 'DATA_LOSS' });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(where, 'must be a JSON object');
  const doc = json as Record<string, unknown>;
  if (doc.mediaType !== undefined && doc.mediaType !== mediaType) {
    fail(where, `mediaType ${JSON.stringify(doc.mediaType)} differs from the descriptor's ${JSON.stringify(mediaType)}`);
  }
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, `${where} subject`);
  const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;
  // Literals written out whole: a spread of a common part gave every document a hidden class of its own.
  if (isIndexType(mediaType)) {
    return { mediaType, subject, artifactType, children: descriptorList(doc.manifests, where, 'manifests'), childrenAreManifests: true };
  }
  if (mediaType === MediaTypes.ociArtifactManifest) {
    return { mediaType, subject, artifactType, children: descriptorList(doc.blobs, where, 'blobs'), childrenAreManifests: false };
  }
  if (isManifestType(mediaType)) {
    const config = parseDescriptor(doc.config, `${where} config`);
    const layers = descriptorList(doc.layers, where, 'layers');
    return { mediaType, subject, artifactType, config, children: [config, ...layers], childrenAreManifests: false };
  }
  fail(where, `media type ${mediaType} is not an index or manifest`);
}
