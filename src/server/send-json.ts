import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Sends a whole small body with its Content-Length (and none for HEAD). `headers` come after
 * Content-Type and Content-Length, so they may name another type.
 */
export function sendBody(req: IncomingMessage, res: ServerResponse, body: string | Buffer, type: string,
  headers: OutgoingHttpHeaders = {}, status = 200): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length, ...headers });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** Sends `value` as JSON (application/json unless `headers` name another type, such as an OCI index). */
export function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown, headers: OutgoingHttpHeaders = {}, status = 200): void {
  sendBody(req, res, JSON.stringify(value), 'application/json', headers, status);
}
