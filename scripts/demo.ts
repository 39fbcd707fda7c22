import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseUnavailable } from '../test/fixtures/mount.js';
import { buildFixtureStore } from '../test/fixtures/layout-builder.js';

/**
 * `npm run demo`: makes a small shared store (a multi-platform index, a Docker schema2 image,
 * images sharing a base layer under full and bare names, an SBOM artifact), lists it, then mounts
 * it and serves it over HTTP in the foreground until Ctrl-C. Without FUSE it only serves.
 */
const base = process.env.LAYOUTFS_DEMO_DIR ?? join(tmpdir(), 'layoutfs-demo');
const store = join(base, 'store');
const mnt = join(base, 'mnt');
const listen = process.env.LAYOUTFS_DEMO_LISTEN ?? '127.0.0.1:5050';
if (!existsSync(join(store, 'index.json'))) {
  mkdirSync(base, { recursive: true });
  buildFixtureStore(store);
}
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
process.stdout.write(`demo store: ${store}\n\n$ layoutfs ls ${store}\n`);
spawnSync(process.execPath, [cli, 'ls', store], { stdio: 'inherit' });

const noFuse = fuseUnavailable();
const args = noFuse ? ['serve', store, '--listen', listen] : ['mount', store, mnt, '--serve', listen];
process.stdout.write(`
$ layoutfs ${args.join(' ')}
${noFuse ? `(FUSE unavailable: ${noFuse}; serving only)\n` : `Try, in another shell:
  skopeo inspect oci:${mnt}/docker.io/library/multi/2
  skopeo copy oci:${mnt}/ghcr.io/acme/docker-type/3.11 docker-archive:/tmp/docker-type.tar
  umoci unpack --image ${mnt}/registry.example%3A5000/team/app/v1:v1 /tmp/app-bundle
  tar -C ${mnt}/docker.io/library/base/1 -cf /tmp/base.tar .
  du -sh ${mnt}   # each shared blob counted once (hard links)
`}  skopeo inspect --tls-verify=false docker://${listen}/docker.io/library/multi:2
  curl -s http://${listen}/_layoutfs/status
Ctrl-C stops.
`);
const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit' });
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
child.on('exit', (code) => (process.exitCode = code ?? 0));
