// npm postinstall: rebuilds fuse-native 2.2.6 with fuse-native-layoutfs.patch, so the mount's
// FUSE threads read blob files themselves instead of waiting on the JavaScript thread for every
// 128 KiB, and a refresh can drop what the kernel cached (see native-notes/fuse.md). Needs patch,
// make, a C compiler, python3 and Node's headers. Without them it warns and leaves the stock
// binding: the mount then reads blobs in JavaScript and keeps 1 s kernel cache timeouts, correct
// but slower. Running it again is a no-op once the binding is built.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PATCH = join(dirname(fileURLToPath(import.meta.url)), 'fuse-native-layoutfs.patch');
/** The symbol the patch adds last: a binding that exports it (and direct_fd_flag) is built from it. */
const MARKER = 'fuse_native_mount_grants';
const VERSION = '2.2.6';

const warn = (msg) => process.stderr.write(`layoutfs: ${msg}\n`);
let fuseDir;
const run = (file, args) => execFileSync(file, args, { cwd: fuseDir, stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether the binding node-gyp-build would load has the patch (a fresh process: no module cache). */
function isPatched() {
  const probe = `const b = require('node-gyp-build')(${JSON.stringify(fuseDir)}); process.exit(b.direct_fd_flag && b.${MARKER} ? 0 : 1)`;
  try {
    execFileSync(process.execPath, ['-e', probe], { cwd: fuseDir, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** npm hands lifecycle scripts its node-gyp; run by hand, use the one bundled with npm. */
function nodeGyp() {
  return process.env.npm_config_node_gyp ?? resolve(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
}

/** Node's own headers when they are installed beside it: node-gyp would download them otherwise. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(process.execPath, '../..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function main() {
  fuseDir = dirname(createRequire(import.meta.url).resolve('fuse-native/package.json'));
  const { version } = JSON.parse(readFileSync(join(fuseDir, 'package.json'), 'utf8'));
  if (version !== VERSION) {
    warn(`fuse-native ${version} is not ${VERSION}, which ${PATCH} is made for; the mount will read blobs in JavaScript`);
    return;
  }
  if (isPatched()) return;
  // The patch always applies to the pristine source, kept beside it the first time: a source
  // patched halfway (or by an older patch) is never patched again on top.
  const source = join(fuseDir, 'fuse-native.c');
  const pristine = `${source}.pristine`;
  if (!existsSync(pristine)) copyFileSync(source, pristine);
  copyFileSync(pristine, source);
  try {
    run('patch', ['-p1', '--batch', '--no-backup-if-mismatch', '--reject-file=-', '-i', PATCH]);
    run(process.execPath, [nodeGyp(), 'rebuild', ...nodedirArgs()]);
    if (!isPatched()) throw new Error(`the rebuilt binding lacks ${MARKER}`);
  } catch (err) {
    // Back to the stock source and the prebuilt binding, which node-gyp-build falls back to.
    copyFileSync(pristine, source);
    rmSync(join(fuseDir, 'build'), { recursive: true, force: true });
    // node-gyp ends with lines that name itself, not the cause: keep what comes before them.
    const lines = err.stderr ? String(err.stderr).trim().split('\n') : [err.message];
    const detail = lines.filter((l) => !/^gyp (ERR!|info) (command|cwd|node -v|node-gyp -v|not ok|System|stack)/.test(l)).slice(-5).join('\n');
    warn(`could not build fuse-native with ${PATCH}; the mount will read blobs in JavaScript and keep 1 s kernel caches (slower).\n${detail}`);
  }
}

try {
  main();
} catch (err) {
  // Never fail `npm install` over this: the stock binding works, only slower.
  warn(`could not build fuse-native with ${PATCH}: ${err.message}`);
}
