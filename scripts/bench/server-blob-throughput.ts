import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { padding, TAR_END, tarHeader } from '../../src/archive/tar-header.js';
import { MediaTypes } from '../../src/oci/media-types.js';
import { LayoutBuilder, sha256 } from '../../test/fixtures/layout-builder.js';

/**
 * `layoutfs serve` against the peers a user would otherwise run, on loopback, same store:
 * - 10 sequential curl downloads of a ~100 MB blob, against nginx serving the store directory
 *   with sendfile (issue 4 aims for at least 0.8 of nginx's throughput);
 * - `skopeo copy docker://…` of a ~100 MB image, against Debian's docker-registry holding the
 *   same image (aim: at most 1.0 of its time).
 * Needs curl, nginx, docker-registry and skopeo (.ci/run installs them).
 */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const BLOB_MB = 100;
const DOWNLOADS = 10;
const COPIES = 3;

const work = mkdtempSync(join(tmpdir(), 'layoutfs-bench-server-'));
// nginx workers run as an unprivileged user and must be able to read the store.
chmodSync(work, 0o755);
const children: ChildProcess[] = [];
let stopping = false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts a child and resolves once `ready` says its output shows it listening. */
function start(cmd: string, args: string[], ready: (out: string) => string | undefined | boolean): Promise<string> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  return new Promise((resolve, reject) => {
    const check = () => {
      const r = ready(out);
      if (r) resolve(typeof r === 'string' ? r : '');
    };
    proc.stdout.on('data', (d) => { out += String(d); check(); });
    proc.stderr.on('data', (d) => { out += String(d); check(); });
    proc.on('exit', (code) => stopping || reject(new Error(`${cmd} exited with ${code}: ${out}`)));
  });
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing answers at ${url}`);
}

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A one-layer image whose layer is ~BLOB_MB of incompressible data in a real tar.gz. */
function buildStore(dir: string): { layerDigest: string; layerSize: number } {
  const b = new LayoutBuilder(dir);
  const data = randomBytes(BLOB_MB * 1024 * 1024);
  const tar = Buffer.concat([tarHeader({ name: 'data.bin', size: data.length, mode: 0o644, mtime: 1_600_000_000 }), data,
    Buffer.alloc(padding(data.length)), TAR_END]);
  const layer = b.blob(gzipSync(tar, { level: 1 }), MediaTypes.ociLayerGzip);
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }, MediaTypes.ociConfig);
  const manifest = b.json({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config, layers: [layer] }, MediaTypes.ociManifest);
  b.add(manifest, 'bench.example/big:1').write();
  return { layerDigest: layer.digest, layerSize: layer.size };
}

/**
 * Seconds spent on DOWNLOADS sequential curl downloads of each URL, after one untimed warm-up
 * each (JIT, first lookups). Rounds alternate between the URLs so that drift in the machine's
 * load hits them alike (see README.md).
 */
function curlDownloads(urls: string[]): number[] {
  const totals = urls.map(() => 0);
  for (const url of urls) execFileSync('curl', ['-sf', '-o', '/dev/null', url]);
  for (let i = 0; i < DOWNLOADS; i++) {
    urls.forEach((url, j) => (totals[j]! += seconds(() => execFileSync('curl', ['-sf', '-o', '/dev/null', url]))));
  }
  return totals;
}

/** Seconds spent on COPIES `skopeo copy` runs from each source, alternating like curlDownloads. */
function skopeoCopies(sources: string[]): number[] {
  const totals = sources.map(() => 0);
  for (let i = 0; i < COPIES; i++) {
    sources.forEach((source, j) => {
      const out = join(work, `copy-${i}-${j}`);
      totals[j]! += seconds(() => execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', source, `oci:${out}:x`]));
      rmSync(out, { recursive: true, force: true });
    });
  }
  return totals;
}

try {
  const store = join(work, 'store');
  const { layerDigest, layerSize } = buildStore(store);
  process.stdout.write(`store with a ${(layerSize / 1e6).toFixed(0)} MB layer ready in ${work}\n`);

  const layoutfsUrl = await start(process.execPath, [cli, 'serve', store, '--listen', '127.0.0.1:0'],
    (out) => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1]);

  const nginxPort = await freePort();
  const nginxConf = join(work, 'nginx.conf');
  writeFileSync(nginxConf, `worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 64; }
http {
  sendfile on;
  tcp_nopush on;
  access_log off;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  server { listen 127.0.0.1:${nginxPort}; root ${store}; }
}
`);
  void start('nginx', ['-c', nginxConf, '-p', work], () => false).catch((err: unknown) => process.stderr.write(`${String(err)}\n`));
  await waitHttp(`http://127.0.0.1:${nginxPort}/oci-layout`);

  const hex = layerDigest.slice(7);
  const [viaLayoutfs, viaTree, viaNginx] = curlDownloads([`${layoutfsUrl}/v2/bench.example/big/blobs/${layerDigest}`,
    `${layoutfsUrl}/layouts/bench.example/big/1/blobs/sha256/${hex}`, `http://127.0.0.1:${nginxPort}/blobs/sha256/${hex}`]) as [number, number, number];
  const mbps = (s: number) => ((DOWNLOADS * layerSize) / 1e6 / s).toFixed(0);
  process.stdout.write(`blob GET x${DOWNLOADS}: layoutfs /v2/ ${viaLayoutfs.toFixed(2)} s (${mbps(viaLayoutfs)} MB/s), ` +
    `/layouts/ ${viaTree.toFixed(2)} s (${mbps(viaTree)} MB/s), nginx sendfile ${viaNginx.toFixed(2)} s (${mbps(viaNginx)} MB/s)\n`);
  process.stdout.write(`  throughput ratio layoutfs/nginx: /v2/ ${(viaNginx / viaLayoutfs).toFixed(2)}, /layouts/ ${(viaNginx / viaTree).toFixed(2)} (aim >= 0.8)\n`);

  const registryPort = await freePort();
  const registryConf = join(work, 'registry.yml');
  writeFileSync(registryConf, `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${work}/registry
http:
  addr: 127.0.0.1:${registryPort}
`);
  void start('docker-registry', ['serve', registryConf], () => false).catch((err: unknown) => process.stderr.write(`${String(err)}\n`));
  await waitHttp(`http://127.0.0.1:${registryPort}/v2/`);
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${store}:bench.example/big:1`,
    `docker://127.0.0.1:${registryPort}/bench.example/big:1`]);

  const [copyLayoutfs, copyRegistry] = skopeoCopies([`docker://${layoutfsUrl.slice('http://'.length)}/bench.example/big:1`,
    `docker://127.0.0.1:${registryPort}/bench.example/big:1`]) as [number, number];
  process.stdout.write(`skopeo copy x${COPIES}: layoutfs ${copyLayoutfs.toFixed(2)} s, docker-registry ${copyRegistry.toFixed(2)} s\n`);
  process.stdout.write(`  time ratio layoutfs/docker-registry: ${(copyLayoutfs / copyRegistry).toFixed(2)} (aim <= 1.0)\n`);
} finally {
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
  rmSync(work, { recursive: true, force: true });
}
