import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { View } from '../view/view.js';
import { CONTROL_PREFIX, serveMetrics, serveStatus, type ControlOptions } from './control-routes.js';
import { errorBody, HttpError, toHttp } from './errors.js';
import { isLoopback, type ListenAddress } from './listen-address.js';
import { ServerMetrics } from './metrics.js';
import { RegistryIndex } from './registry/registry-index.js';
import { parseRegistryPath, serveRegistry } from './registry/registry-routes.js';
import { MAX_URL_LENGTH, splitTarget } from './request-path.js';
import { sendBody } from './send-json.js';
import { serveTree, TREE_PREFIX } from './tree-routes.js';

export interface ServerOptions extends ControlOptions {
  listen: ListenAddress;
  log: Logger;
  /** Repository that bare tags (`latest`, `3.11`) are served under; see DEFAULT_BARE_REPOSITORY. */
  bareRepository: string;
}

export interface RunningServer {
  address: { host: string; port: number; url: string };
  /** Stops listening and drops open connections (their streams close their fds). */
  close(): Promise<void>;
}

/**
 * Limits that keep one client from holding the process: headers are small for a read-only API;
 * a request must arrive whole in REQUEST_TIMEOUT; a socket that moves no byte for IDLE_TIMEOUT is
 * destroyed, which ends a stalled download and closes its blob fd.
 */
const MAX_HEADER_BYTES = 16 * 1024;
const HEADERS_TIMEOUT = 10_000;
const REQUEST_TIMEOUT = 30_000;
const IDLE_TIMEOUT = 60_000;
/** Connections served at once; more are refused at accept (each may hold body buffers and an fd). */
export const MAX_CONNECTIONS = 1024;

function sendFailure(req: IncomingMessage, res: ServerResponse, err: unknown, log: Logger): void {
  const failure = toHttp(err);
  if (failure.status >= 500) log.error({ err, url: req.url }, 'request failed');
  else log.debug({ url: req.url, status: failure.status, code: failure.code }, failure.message);
  if (res.headersSent) {
    // Part of a body is out: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  // Headers set for the representation (ETag, Cache-Control: immutable, digests) must not
  // make an error cacheable.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  sendBody(req, res, errorBody(failure), 'application/json', failure.headers, failure.status);
}

/**
 * Serves the view over HTTP: the tree under /layouts/, the read-only distribution API under
 * /v2/, status and metrics under /_layoutfs/. Runs alone (`layoutfs serve`) or beside a mount,
 * sharing its view and cache.
 */
export async function startServer(view: View, options: ServerOptions): Promise<RunningServer> {
  const { log } = options;
  const metrics = new ServerMetrics();
  const registry = new RegistryIndex(view, options.bareRepository);
  // The registry follows each store state at the refresh that brings it, off the request path.
  view.onChange(() => {
    try {
      registry.sync();
    } catch (err) {
      // A listener must not throw inside the refresh; the next request syncs again and fails visibly.
      log.error({ err }, 'registry index not updated');
    }
  });
  const ctx = { view, metrics };

  // `at.route` is set before any await, so a failed request still counts under its route.
  const route = async (req: IncomingMessage, res: ServerResponse, at: { route: string }): Promise<void> => {
    const url = req.url ?? '/';
    if (url.length > MAX_URL_LENGTH) throw new HttpError(414, 'NAME_INVALID', `request target longer than ${MAX_URL_LENGTH} bytes`);
    const { path, query } = splitTarget(url);
    if (path === TREE_PREFIX || path.startsWith(TREE_PREFIX + '/')) {
      at.route = 'layouts';
      return serveTree(req, res, path.slice(TREE_PREFIX.length + 1), ctx);
    }
    if (path === '/v2' || path.startsWith('/v2/')) {
      at.route = 'v2';
      const request = parseRegistryPath(path.slice(4));
      at.route = 'v2_' + request.action;
      return serveRegistry(req, res, request, query, registry.sync(), ctx);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'UNSUPPORTED', 'only GET and HEAD', { Allow: 'GET, HEAD' });
    if (path === `${CONTROL_PREFIX}/status`) {
      at.route = 'status';
      return serveStatus(req, res, view, registry.sync(), options);
    }
    if (path === `${CONTROL_PREFIX}/metrics`) {
      at.route = 'metrics';
      return serveMetrics(req, res, view, metrics, registry, options);
    }
    throw new HttpError(404, 'NAME_UNKNOWN', 'not found: the tree is under /layouts/, the registry under /v2/');
  };

  const server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT, requestTimeout: REQUEST_TIMEOUT, keepAlive: true,
  }, (req, res) => {
    const at = { route: 'other' };
    // Store bytes are served with the store's media types: no browser may guess another.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.once('close', () => metrics.countRequest(at.route, res.statusCode));
    route(req, res, at).catch((err: unknown) => sendFailure(req, res, err, log));
  });
  server.timeout = IDLE_TIMEOUT;
  server.maxConnections = MAX_CONNECTIONS;
  // A client that shuts its sending side after the request (`nc -N`, a raw socket's end()) still
  // gets its answer: by default Node drops a request whose answer needs I/O once that FIN arrives,
  // and answers read from the store (a closure on first use) need I/O.
  Object.assign(server, { httpAllowHalfOpen: true });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'server error'));
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const address = { host: bound.address, port: bound.port, url: `http://${host}:${bound.port}` };
  if (!isLoopback(bound.address)) {
    log.warn({ url: address.url }, 'listening on a non-loopback address: anyone who can reach it can read every image in the store (no authentication)');
  }
  log.info({ url: address.url, store: view.storeRoot, bareRepository: options.bareRepository }, 'serving');
  return {
    address,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
