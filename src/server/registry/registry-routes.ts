import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Descriptor } from '../../oci/descriptor.js';
import { parseDigest, type Digest } from '../../oci/digest.js';
import { isIndexType, isWalkableType, MediaTypes } from '../../oci/media-types.js';
import { isConformingRepository } from '../../oci/reference.js';
import type { ViewEntry } from '../../view/view-entry.js';
import type { View } from '../../view/view.js';
import { HttpError } from '../errors.js';
import { decodePathSegments } from '../request-path.js';
import { IMMUTABLE, REVALIDATE, sendRepresentation, type SendContext } from '../send-representation.js';
import { sendJson } from '../send-json.js';
import { paginate } from './pagination.js';
import type { RegistryIndex, Repository } from './registry-index.js';

export type RegistryAction = 'base' | 'catalog' | 'manifests' | 'blobs' | 'uploads' | 'tags' | 'referrers';

interface RegistryRequest {
  action: RegistryAction;
  name: string;
  /** Tag or digest (manifests), digest (blobs, referrers). */
  arg: string;
}

const READ_ONLY = 'this registry is read-only: push, delete and upload are not supported';

/** Reads `/v2/<name>/<action>/<arg>`; names have slashes, so the action is found from the end. */
export function parseRegistryPath(rawPath: string): RegistryRequest {
  const s = decodePathSegments(rawPath);
  const n = s.length;
  if (n === 0) return { action: 'base', name: '', arg: '' };
  if (n === 1 && s[0] === '_catalog') return { action: 'catalog', name: '', arg: '' };
  const uploads = s.findIndex((seg, i) => seg === 'blobs' && s[i + 1] === 'uploads');
  if (uploads > 0) return { action: 'uploads', name: s.slice(0, uploads).join('/'), arg: '' };
  if (n >= 3 && s[n - 2] === 'tags' && s[n - 1] === 'list') return { action: 'tags', name: s.slice(0, n - 2).join('/'), arg: '' };
  for (const action of ['manifests', 'blobs', 'referrers'] as const) {
    if (n >= 3 && s[n - 2] === action) return { action, name: s.slice(0, n - 2).join('/'), arg: s[n - 1]! };
  }
  throw new HttpError(404, 'UNSUPPORTED', 'no such endpoint of the distribution API (pull side)');
}

/** Methods each endpoint answers; anything else is a write, and this registry takes none (uploads: no method at all). */
function checkMethod(req: IncomingMessage, action: RegistryAction): void {
  const ok = action !== 'uploads' && (req.method === 'GET' || req.method === 'HEAD');
  if (!ok) throw new HttpError(405, 'UNSUPPORTED', READ_ONLY, { Allow: action === 'uploads' ? '' : 'GET, HEAD' });
}

function repositoryOf(index: RegistryIndex, name: string): Repository {
  if (!isConformingRepository(name)) throw new HttpError(400, 'NAME_INVALID', `${JSON.stringify(name)} is not a valid repository name`);
  const repo = index.repositories.get(name);
  if (!repo) throw new HttpError(404, 'NAME_UNKNOWN', `repository ${name} is not in the store`);
  return repo;
}

/**
 * Whether the client takes `mediaType`. Image manifests are served whatever Accept says (older
 * clients list only Docker types and still cope, and distribution does the same); an index goes
 * only to a client that takes indexes, since one that does not would misread it.
 */
function accepts(req: IncomingMessage, mediaType: string): boolean {
  const accept = req.headers.accept;
  if (!accept || !isIndexType(mediaType)) return true;
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  return types.some((t) => t === mediaType || t === '*/*' || t === 'application/*');
}

/** The manifest a tag or digest names in `repo`, and whether its bytes are immutable (by digest). */
async function manifestOf(view: View, index: RegistryIndex, repo: Repository, reference: string): Promise<{ descriptor: Descriptor; immutable: boolean }> {
  const unknown = () => new HttpError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} is not in repository ${repo.name}`);
  // A tag never contains `:`; anything with one is a digest, and must be a valid one.
  if (reference.includes(':')) {
    const digest = parseDigest(reference);
    const blob = await index.blobOf(repo, digest);
    if (!blob || !isWalkableType(blob.mediaType)) throw unknown();
    return { descriptor: { mediaType: blob.mediaType, digest, size: blob.size, raw: {} }, immutable: true };
  }
  const entry = index.tagged(repo, reference);
  // A root whose media type is not a manifest or index (text/html, say) is no manifest: it is
  // never served with its own Content-Type.
  if (!entry || !view.hasBlob(entry.root.digest) || !isWalkableType(entry.root.mediaType)) throw unknown();
  return { descriptor: entry.root, immutable: false };
}

async function serveManifest(req: IncomingMessage, res: ServerResponse, index: RegistryIndex, repo: Repository, reference: string, ctx: SendContext): Promise<void> {
  const { descriptor, immutable } = await manifestOf(ctx.view, index, repo, reference);
  if (!accepts(req, descriptor.mediaType)) {
    throw new HttpError(404, 'MANIFEST_UNKNOWN', `${reference} is a ${descriptor.mediaType}, which the Accept header does not include`);
  }
  // HEAD answers from the descriptor alone; GET sends the bytes, checked against the digest once.
  const bytes = req.method === 'HEAD' ? Buffer.alloc(0) : await ctx.view.documentBytes(descriptor);
  await sendRepresentation(req, res, {
    size: descriptor.size, etag: `"${descriptor.digest}"`, contentType: descriptor.mediaType,
    cacheControl: immutable ? IMMUTABLE : REVALIDATE, headers: { 'Docker-Content-Digest': descriptor.digest },
    body: { kind: 'bytes', bytes },
  }, ctx);
}

async function serveBlob(req: IncomingMessage, res: ServerResponse, index: RegistryIndex, repo: Repository, arg: string, ctx: SendContext): Promise<void> {
  const digest = parseDigest(arg);
  const blob = await index.blobOf(repo, digest);
  if (!blob) throw new HttpError(404, 'BLOB_UNKNOWN', `blob ${digest} is not in repository ${repo.name}`);
  await sendRepresentation(req, res, {
    size: blob.size, etag: `"${digest}"`, contentType: 'application/octet-stream', cacheControl: IMMUTABLE,
    headers: { 'Docker-Content-Digest': digest }, body: { kind: 'reader', open: () => ctx.view.openBlob(digest, blob.size) },
  }, ctx);
}

/** A referrer's descriptor as the spec lists it: artifactType (or the config's media type) and the manifest's annotations. */
async function referrerDescriptor(view: View, v: ViewEntry): Promise<Record<string, unknown>> {
  const doc = JSON.parse((await view.documentBytes(v.root)).toString('utf8')) as {
    artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: unknown;
  };
  const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : doc.config?.mediaType;
  const d: Record<string, unknown> = { mediaType: v.root.mediaType, digest: v.root.digest, size: v.root.size };
  if (typeof artifactType === 'string') d.artifactType = artifactType;
  if (typeof doc.annotations === 'object' && doc.annotations !== null) d.annotations = doc.annotations;
  return d;
}

async function serveReferrers(req: IncomingMessage, res: ServerResponse, index: RegistryIndex, repo: Repository, arg: string, query: URLSearchParams, ctx: SendContext): Promise<void> {
  const subject: Digest = parseDigest(arg);
  const filter = query.get('artifactType');
  const manifests: Record<string, unknown>[] = [];
  // A subject the repository does not reach has no referrers here (the spec wants 200, not 404).
  if (await index.blobOf(repo, subject)) {
    for (const v of index.referrers.get(subject) ?? []) {
      const d = await referrerDescriptor(ctx.view, v);
      if (filter === null || d.artifactType === filter) manifests.push(d);
    }
  }
  sendJson(req, res, { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests },
    { 'Content-Type': MediaTypes.ociIndex, ...(filter === null ? {} : { 'OCI-Filters-Applied': 'artifactType' }) });
}

/** `/v2/...`: the pull side of the OCI distribution spec v1.1 over the view. */
export async function serveRegistry(req: IncomingMessage, res: ServerResponse, request: RegistryRequest, query: URLSearchParams,
  index: RegistryIndex, ctx: SendContext): Promise<void> {
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  checkMethod(req, request.action);
  const { action, name, arg } = request;
  if (action === 'base') return sendJson(req, res, {});
  if (action === 'catalog') {
    const page = paginate(index.names, query, '/v2/_catalog');
    return sendJson(req, res, { repositories: page.items }, page.link ? { Link: page.link } : {});
  }
  const repo = repositoryOf(index, name);
  switch (action) {
    case 'tags': {
      const page = paginate([...repo.tags.keys()].sort(), query, `/v2/${name}/tags/list`);
      return sendJson(req, res, { name, tags: page.items }, page.link ? { Link: page.link } : {});
    }
    case 'manifests':
      return serveManifest(req, res, index, repo, arg, ctx);
    case 'blobs':
      return serveBlob(req, res, index, repo, arg, ctx);
    case 'referrers':
      return serveReferrers(req, res, index, repo, arg, query, ctx);
  }
}
