import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ByteReader } from '../view/open-file.js';
import type { View } from '../view/view.js';
import { writeBody, type BodyPart } from './body-writer.js';
import { parseRange } from './byte-ranges.js';
import type { ServerMetrics } from './metrics.js';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Synthetic files and tag lookups change when the store does: always revalidate. */
export const REVALIDATE = 'no-cache';

/** What one GET or HEAD answers with: bytes in memory (manifests, listings) or a file the view opens (blobs, archives). */
export interface Representation {
  size: number;
  /** Quoted strong entity tag. */
  etag: string;
  contentType: string;
  cacheControl: string;
  headers?: Record<string, string>;
  body: { kind: 'bytes'; bytes: Buffer } | { kind: 'reader'; open: () => Promise<ByteReader> };
}

export interface SendContext {
  view: View;
  metrics: ServerMetrics;
}

/** If-None-Match (RFC 9110 §13.1.2): weak comparison, `*` matches anything that exists. */
function notModified(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === 'W/' + etag;
  });
}

/** The ranges to answer, honouring If-Range (a Range only applies to the representation it was made for). */
function rangeOf(req: IncomingMessage, rep: Representation) {
  const ifRange = req.headers['if-range'];
  if (typeof ifRange === 'string' && ifRange.trim() !== rep.etag) return { kind: 'whole' as const };
  return parseRange(req.headers.range, rep.size);
}

/**
 * Sends the body in the background: the route is done once headers are out. Counts the bytes
 * when the response finishes whole; on any failure mid-body (client gone, read error) the
 * connection is cut, since a half-sent keep-alive response cannot be taken back.
 */
function sendBody(res: ServerResponse, source: Buffer | ByteReader, parts: BodyPart[], length: number,
  ctx: SendContext, tail?: Buffer): void {
  res.once('finish', () => (ctx.metrics.bytesServed += length));
  void (async () => {
    try {
      await writeBody(res, source, parts, tail);
    } catch {
      res.destroy();
    } finally {
      if (!Buffer.isBuffer(source)) await source.close().catch(() => undefined);
    }
  })();
}

/**
 * Answers GET or HEAD with `rep`: 304 on a matching If-None-Match, 206 for one range,
 * multipart/byteranges for several, 416 when none fits. Blobs stream from their file, never
 * buffered whole; the fd is opened only for a GET that sends bytes.
 */
export async function sendRepresentation(req: IncomingMessage, res: ServerResponse, rep: Representation, ctx: SendContext): Promise<void> {
  res.setHeader('ETag', rep.etag);
  res.setHeader('Cache-Control', rep.cacheControl);
  res.setHeader('Accept-Ranges', 'bytes');
  for (const [k, v] of Object.entries(rep.headers ?? {})) res.setHeader(k, v);
  if (notModified(req, rep.etag)) {
    res.writeHead(304).end();
    return;
  }
  const head = req.method === 'HEAD';
  const range = rangeOf(req, rep);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${rep.size}`, 'Content-Type': 'application/json' });
    res.end(head ? undefined : JSON.stringify({ errors: [{ code: 'RANGE_NOT_SATISFIABLE', message: `no requested range lies within the ${rep.size} bytes` }] }));
    return;
  }
  // Opened only for a GET that sends bytes; closed when the body is done.
  const source = head ? undefined : rep.body.kind === 'bytes' ? rep.body.bytes : await rep.body.open();

  if (range.kind === 'whole' || range.ranges.length === 1) {
    const r = range.kind === 'whole' ? { start: 0, end: rep.size - 1 } : range.ranges[0]!;
    const length = r.end - r.start + 1;
    res.setHeader('Content-Type', rep.contentType);
    res.setHeader('Content-Length', length);
    if (range.kind === 'ranges') res.setHeader('Content-Range', `bytes ${r.start}-${r.end}/${rep.size}`);
    res.writeHead(range.kind === 'ranges' ? 206 : 200);
    if (source === undefined || length === 0) {
      res.end();
      if (source !== undefined && !Buffer.isBuffer(source)) await source.close();
      return;
    }
    sendBody(res, source, [{ range: r }], length, ctx);
    return;
  }

  const boundary = randomBytes(12).toString('hex');
  const heads = range.ranges.map((r) => Buffer.from(
    `\r\n--${boundary}\r\nContent-Type: ${rep.contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${rep.size}\r\n\r\n`));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = heads.reduce((n, h, i) => n + h.length + range.ranges[i]!.end - range.ranges[i]!.start + 1, tail.length);
  res.writeHead(206, { 'Content-Type': `multipart/byteranges; boundary=${boundary}`, 'Content-Length': length });
  if (source === undefined) {
    res.end();
    return;
  }
  sendBody(res, source, range.ranges.map((r, i) => ({ head: heads[i]!, range: r })), length, ctx, tail);
}
