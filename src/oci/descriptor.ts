import { LayoutfsError } from '../errors.js';
import { parseDigest, type Digest } from './digest.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A content descriptor; `raw` keeps every field of the source object (urls, data, ...). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
  raw: Readonly<Record<string, unknown>>;
}

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates one descriptor object. `where` names the document and field
 * (e.g. `index.json manifests[3]`) so errors point at the broken entry.
 */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new LayoutfsError('INVALID_ARGUMENT', `${where}: a descriptor must be a JSON object`);
  const { mediaType, digest, size, platform, artifactType, annotations } = value;
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new LayoutfsError('INVALID_ARGUMENT', `${where}: mediaType must be a non-empty string`);
  }
  const parsedDigest = parseDigest(digest, `${where} digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new LayoutfsError('INVALID_ARGUMENT', `${where}: size must be an integer >= 0, got ${JSON.stringify(size)}`);
  }
  const d: Descriptor = { mediaType, digest: parsedDigest, size, raw: value };
  if (platform !== undefined) d.platform = parsePlatform(platform, where);
  if (typeof artifactType === 'string') d.artifactType = artifactType;
  if (annotations !== undefined) {
    if (!isObject(annotations) || !Object.values(annotations).every((a) => typeof a === 'string')) {
      throw new LayoutfsError('INVALID_ARGUMENT', `${where}: annotations must map strings to strings`);
    }
    d.annotations = annotations as Record<string, string>;
  }
  return d;
}

function parsePlatform(value: unknown, where: string): Platform {
  if (!isObject(value) || typeof value.architecture !== 'string' || typeof value.os !== 'string') {
    throw new LayoutfsError('INVALID_ARGUMENT', `${where}: platform needs string "architecture" and "os"`);
  }
  return value as unknown as Platform;
}

/** `linux/arm64/v8` style. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
