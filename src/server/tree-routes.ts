import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MediaTypes } from '../oci/media-types.js';
import type { FileLikeNode, FileNode } from '../view/nodes.js';
import { sendListing } from './directory-listing.js';
import { HttpError } from './errors.js';
import { decodePathSegments } from './request-path.js';
import { IMMUTABLE, REVALIDATE, sendRepresentation, type SendContext } from './send-representation.js';

export const TREE_PREFIX = '/layouts';

/** Content types of the synthetic files, by name. */
const FILE_TYPES: Record<string, string> = { 'index.json': MediaTypes.ociIndex, 'oci-layout': 'application/json' };

function fileEtag(node: FileNode): string {
  // index.json bytes are deterministic per store state, so their hash is a stable validator.
  return `"sha256:${createHash('sha256').update(node.content).digest('hex')}"`;
}

/**
 * A view path keeps its `%` (`localhost%3A5000/app/1`), so in a URL it is `%25`. A request that
 * decoded to nothing but names a tree path as written was meant for it: say how to ask.
 */
async function encodingHint(ctx: SendContext, rawPath: string): Promise<string> {
  if (!rawPath.includes('%') || /[\\?#]/.test(rawPath)) return '';
  const asWritten = rawPath.replace(/\/$/, '');
  if (!(await ctx.view.lookup(asWritten))) return '';
  const url = `${TREE_PREFIX}/${asWritten.split('/').map(encodeURIComponent).join('/')}`;
  return `; view paths are percent-encoded, so a % in them is %25 in a URL: ${url}`;
}

/**
 * `GET/HEAD /layouts/<tree path>`: exactly the tree the mount shows. The decoded path is only ever
 * a key into the view's tree; no file name is built from it, so nothing outside the tree can be
 * named, however it is encoded.
 */
export async function serveTree(req: IncomingMessage, res: ServerResponse, rawPath: string, ctx: SendContext): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(405, 'UNSUPPORTED', 'the tree is read-only: only GET and HEAD', { Allow: 'GET, HEAD' });
  }
  const path = decodePathSegments(rawPath).join('/');
  const node = await ctx.view.lookup(path);
  if (!node) throw new HttpError(404, 'NAME_UNKNOWN', `no ${path === '' ? 'root' : path} in the tree${await encodingHint(ctx, rawPath)}`);
  const open = () => ctx.view.openReader(node as FileLikeNode);
  switch (node.type) {
    case 'dir': {
      const names = await ctx.view.readdir(path);
      return sendListing(req, res, ctx.view, path, names ?? []);
    }
    case 'file':
      return sendRepresentation(req, res, { size: node.size, etag: fileEtag(node), cacheControl: REVALIDATE,
        contentType: FILE_TYPES[path.slice(path.lastIndexOf('/') + 1)] ?? 'application/octet-stream',
        body: { kind: 'bytes', bytes: node.content } }, ctx);
    case 'blob':
      return sendRepresentation(req, res, { size: node.size, etag: `"${node.digest}"`, cacheControl: IMMUTABLE,
        contentType: 'application/octet-stream', body: { kind: 'reader', open } }, ctx);
    case 'archive':
      // The archive of a view, as in the mount: `a/b/_c.tar` beside view `a/b/c`.
      return sendRepresentation(req, res, { size: node.size, etag: `"${node.plan.etag}"`, cacheControl: REVALIDATE,
        contentType: 'application/x-tar', body: { kind: 'reader', open } }, ctx);
  }
}
