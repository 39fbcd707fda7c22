import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { startServer, type ServerOptions } from '../../src/server/server.js';
import { openStore } from '../../src/store/store-reader.js';
import { View } from '../../src/view/view.js';
import { CLI } from '../fixtures/cli.js';

export interface Served {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, for docker:// references. */
  hostPort: string;
}

export interface ServeProcess extends Served {
  output: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the real `layoutfs serve STORE --listen 127.0.0.1:0` and reads its address from the log. */
export async function startServeProcess(t: TestContext, store: string, extra: string[] = []): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve', store, '--listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /"url":"(http:\/\/[^"]+)","store"/.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    exited.then((code) => reject(new Error(`layoutfs serve exited with ${code}: ${out}`)));
  });
  let stopped: Promise<number | null> | undefined;
  const stop = () => (stopped ??= (async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    return exited;
  })());
  t.after(stop);
  return { url, hostPort: url.slice('http://'.length), output: () => out, stop };
}

/** `startServer` in this process over a fresh view of `store`, closed when the test ends. */
export async function startInProcess(t: TestContext, store: string, options: Partial<ServerOptions> = {}): Promise<Served & { view: View }> {
  const view = await View.open(await openStore(store));
  const server = await startServer(view, { listen: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }),
    bareRepository: 'layoutfs/bare', ...options });
  t.after(() => server.close());
  return { url: server.address.url, hostPort: `127.0.0.1:${server.address.port}`, view };
}

export interface RawResponse {
  status: number;
  head: string;
  body: Buffer;
}

/**
 * Sends `request` as raw bytes and reads until the server closes: fetch and http.request
 * normalize `..` and `%2e%2e` away, and hostile requests must reach the server as written.
 */
export function rawRequest(hostPort: string, request: string | Buffer): Promise<RawResponse> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    // A server that refuses a request may reset the connection after its answer: keep what came.
    socket.on('error', (err) => chunks.length === 0 && reject(err));
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split < 0 ? all.length : split).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: split < 0 ? Buffer.alloc(0) : all.subarray(split + 4) });
    });
    socket.end(request);
  });
}

/** The `code` of the first error in a distribution-spec error body. */
export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  return body.errors[0]!.code;
}

/**
 * The registry name of a store reference, written out independently of src/: `host:port/repo:tag`
 * is served as `host_port/repo:tag`, a bare tag as `layoutfs/bare:tag`.
 */
export function registryRefOf(name: string): string {
  return name.includes('/') ? name.replace(/^([^/:]+):(\d+)\//, '$1_$2/') : `layoutfs/bare:${name}`;
}
