import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayoutBuilder } from '../../test/fixtures/layout-builder.js';
import { bigStore } from './generate-large-store.js';
import { spawnMount } from '../../test/fixtures/mount.js';
import { median, timeShell } from './timing.js';

/**
 * Issue 6's figures, same run: `layoutfs export` of a ~100 MB image to /dev/null against
 * `tar -cf - -C <materialized view> .` of the same content, both through a pipe (GNU tar skips
 * reading data when it writes to /dev/null itself) (aim: at least 0.8 of tar's
 * throughput); reading the virtual `.tar` through the mount against reading the exported file.
 */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'layoutfs-bench-export-'));
const store = join(work, 'store');
const b = new LayoutBuilder(store);
const layers = [0, 1, 2, 3].map(() => b.blob(randomBytes(25 * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar'));
const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }, 'application/vnd.oci.image.config.v1+json');
b.add(b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers }, 'application/vnd.oci.image.manifest.v1+json'), 'bench/image:1').write();
const node = process.execPath;
timeShell(`${node} ${cli} materialize ${store} ${work}/mat`);
const view = `${work}/mat/bench/image/1`;
timeShell(`cat ${store}/blobs/sha256/* > /dev/null`);
const ours = median([1, 2, 3, 4, 5].map(() => timeShell(`${node} ${cli} export ${store} bench/image:1 -o - | cat > /dev/null`)));
const tar = median([1, 2, 3, 4, 5].map(() => timeShell(`tar -cf - -C ${view} . | cat > /dev/null`)));
const mb = 100 * 1.048576;
process.stdout.write(`export of a 100 MiB image to /dev/null: layoutfs ${ours.toFixed(3)} s (${(mb / ours).toFixed(0)} MB/s), ` +
  `tar of the materialized view ${tar.toFixed(3)} s (${(mb / tar).toFixed(0)} MB/s): ${(tar / ours).toFixed(2)} of tar's throughput (aim >= 0.8)\n`);

// 1 GiB, where node's start-up no longer dominates.
const big = bigStore(join(process.env.LAYOUTFS_BENCH_DIR ?? join(tmpdir(), 'layoutfs-bench-fuse'), 'big'));
const bigTree = join(work, 'big-mat');
timeShell(`${node} ${cli} materialize ${big} ${bigTree}`);
const oursBig = median([1, 2, 3].map(() => timeShell(`${node} ${cli} export ${big} big:1 -o - | cat > /dev/null`)));
const tarBig = median([1, 2, 3].map(() => timeShell(`tar -cf - -C ${bigTree}/big/1 . | cat > /dev/null`)));
process.stdout.write(`export of a 1 GiB image: layoutfs ${oursBig.toFixed(3)} s, tar ${tarBig.toFixed(3)} s: ${(tarBig / oursBig).toFixed(2)} of tar's throughput\n`);

const exported = join(work, 'image.tar');
timeShell(`${node} ${cli} export ${store} bench/image:1 -o ${exported}`);
const mnt = mkdtempSync(join(tmpdir(), 'layoutfs-bench-mnt-'));
const m = await spawnMount(store, mnt);
const virtual = join(mnt, 'bench/image/_1.tar');
const dd = (f: string) => `dd if=${f} of=/dev/null bs=1M status=none`;
timeShell(dd(exported));
const disk = median([1, 2, 3].map(() => timeShell(dd(exported))));
const first = timeShell(dd(virtual));
const again = median([1, 2, 3].map(() => timeShell(dd(virtual))));
await m.stop();
process.stdout.write(`virtual .tar through the mount: first read ${first.toFixed(3)} s, later reads ${again.toFixed(3)} s; ` +
  `exported file from disk ${disk.toFixed(3)} s: ratios ${(disk / first).toFixed(2)} and ${(disk / again).toFixed(2)} of disk\n`);
rmSync(mnt, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
