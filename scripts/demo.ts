import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixtureStore } from '../test/fixtures/layout-builder.js';

/**
 * `npm run demo`: makes a small shared store (multi-platform index, Docker schema2 image, images
 * sharing a base layer under full and bare names, an SBOM artifact) and runs layoutfs on it.
 */
const base = process.env.LAYOUTFS_DEMO_DIR ?? join(tmpdir(), 'layoutfs-demo');
const store = join(base, 'store');
if (!existsSync(join(store, 'index.json'))) {
  mkdirSync(base, { recursive: true });
  buildFixtureStore(store);
}
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
process.stdout.write(`demo store: ${store}\n\n$ layoutfs ls ${store}\n`);
const r = spawnSync(process.execPath, [cli, 'ls', store], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
