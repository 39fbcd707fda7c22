// Builds the native FUSE core; run by `npm install` (postinstall) from the
// repository root. A failed build never fails the install: it prints one
// warning line naming the cause and exits 0 (index.cjs then reports
// { available: false }).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const warn = (cause) => {
  process.stderr.write(`layoutfs: native FUSE core not built: ${cause}; the FUSE mount needs it (install a C compiler and run npm rebuild)\n`);
  process.exit(0);
};

if (process.platform !== 'linux') warn(`FUSE core is Linux-only (this is ${process.platform})`);

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (!onPath(process.env.CC || 'cc')) warn(`no C compiler (${process.env.CC || 'cc'})`);
if (!onPath('make')) warn('no make');
if (!onPath('python3') && !onPath('python')) warn('no python3 (node-gyp needs it)');

function findNodeGyp() {
  const fromEnv = process.env.npm_config_node_gyp;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const candidates = [
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  ];
  try {
    candidates.unshift(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not installed as a package */ }
  return candidates.find((p) => existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) warn('node-gyp not found (npm normally bundles it)');

const args = [gyp, 'rebuild'];
const prefix = resolve(process.execPath, '..', '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', maxBuffer: 64 << 20 });
if (r.error) warn(`cannot run node-gyp (${r.error.message})`);
if (r.status !== 0) {
  const out = `${r.stdout || ''}\n${r.stderr || ''}`;
  const line = out.split('\n').find((l) => /error|not found|No such file/i.test(l) && !/^gyp info/.test(l));
  warn(`node-gyp rebuild failed (exit ${r.status})${line ? `: ${line.trim().slice(0, 200)}` : ''}`);
}
