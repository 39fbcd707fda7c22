import { isDigest, type Digest } from './digest.js';

/**
 * The structure of an `org.opencontainers.image.ref.name` value. The spec allows any string, so
 * parsing never fails: it only says which shape the string has.
 * - tagged:   `repository:tag` (the last `:` with no `/` after it), e.g. `docker.io/library/alpine:3.11`
 * - digested: `repository@algorithm:hex`
 * - single:   everything else, shown as one path component (bare tags like `3.11`, odd strings)
 */
export type Reference =
  | { kind: 'tagged'; raw: string; repository: string; tag: string }
  | { kind: 'digested'; raw: string; repository: string; digest: Digest }
  | { kind: 'single'; raw: string };

export function parseReference(raw: string): Reference {
  const at = raw.lastIndexOf('@');
  if (at > 0 && isDigest(raw.slice(at + 1))) {
    return { kind: 'digested', raw, repository: raw.slice(0, at), digest: raw.slice(at + 1) as Digest };
  }
  const colon = raw.lastIndexOf(':');
  if (colon > 0 && colon < raw.length - 1 && !raw.includes('/', colon)) {
    return { kind: 'tagged', raw, repository: raw.slice(0, colon), tag: raw.slice(colon + 1) };
  }
  return { kind: 'single', raw };
}

// The distribution reference grammar (github.com/distribution/reference), for conformance checks.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const REPOSITORY_RE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/**
 * Where a bare tag (`latest`, `3.11`: a name with no repository) lives where a repository is
 * required: the registry (`serve --bare-repository`) and the RepoTags of an exported archive.
 */
export const DEFAULT_BARE_REPOSITORY = 'layoutfs/bare';

// The image-spec grammar of org.opencontainers.image.ref.name (annotations.md).
const REF_COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_NAME_RE = new RegExp(`^${REF_COMPONENT}(?:/${REF_COMPONENT})*$`);

/** A name inside the image-spec ref.name grammar (what `tag` and `import --ref` accept). */
export function isImageSpecRefName(name: string): boolean {
  return REF_NAME_RE.test(name);
}

// The distribution-spec repository name: lowercase path components only (no domain syntax:
// no capitals, no `:port`, no `[ipv6]`), what every client sends in /v2/<name>/.
const DISTRIBUTION_NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

/** A repository name the distribution-spec allows in /v2/<name>/ (and every client accepts). */
export function isDistributionName(name: string): boolean {
  return name.length <= 255 && DISTRIBUTION_NAME_RE.test(name);
}

/** A repository name a registry would accept (lowercase path components, optional domain). */
export function isConformingRepository(name: string): boolean {
  return name.length <= 255 && REPOSITORY_RE.test(name);
}

/** A tag a registry would accept. */
export function isConformingTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/**
 * The `org.opencontainers.image.ref.name` a single-image view carries: the tag for `repo:tag`, the
 * whole string for a single-component name, none for a digest reference (it has no tag).
 */
export function viewRefName(ref: Reference): string | undefined {
  switch (ref.kind) {
    case 'tagged':
      return ref.tag;
    case 'single':
      return ref.raw;
    case 'digested':
      return undefined;
  }
}

/** The full image name containerd and Docker record, when the reference has a repository part. */
export function fullImageName(ref: Reference): string | undefined {
  return ref.kind === 'single' ? undefined : ref.raw;
}
