#!/usr/bin/env node
// Smoke test of the native FUSE core (plain node, no dependencies).
//
//   sudo node native/fuse-core/test/smoke.mjs
//
// As root it prepares a 64 MiB blob in /tmp and runs each part in a child
// process of its own (so "the process exits on its own" is checked too):
//   root   - passthrough and direct mounts, readdirplus, hard links, EROFS,
//            invalidation, concurrent opens, export (open_by_handle_at),
//            unmount -> END, detach of a mount whose process was killed -9
//   nolib  - the root mount with fusermount and libfuse hidden (unshare -m)
//   user   - as nobody through fusermount3: mount, read, unmount
// Exits non-zero when any check fails.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const core = require('../index.cjs');

const BLOB_SIZE = 64 << 20;
const BLOB_INO = 0x1_0000_0005;
const LONG = 3600;
const ENOENT = 2;
const EISDIR = 21;

const arg = (k) => {
  const a = process.argv.find((x) => x.startsWith(`--${k}=`));
  return a ? a.slice(k.length + 3) : undefined;
};

let failures = 0;
function check(ok, what, detail = '') {
  if (ok) console.log(`ok - ${what}`);
  else {
    failures++;
    console.log(`not ok - ${what}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(pred, ms = 10_000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) return false;
    await sleep(20);
  }
  return true;
}

// ---------------------------------------------------------------------------
// The tiny filesystem: / (1) with a/ (2) and b/ (3); a/index.json (4) from JS;
// a/blob and b/blob are one node (5, nlink 2, st_ino above 2^32) from a file.
function makeFs(dir) {
  const blobPath = join(dir, 'blob');
  const uid = process.getuid();
  const gid = process.getgid();
  const dirNode = (nodeid, parent, nlink) => ({ nodeid, ino: nodeid, mode: 0o40555, nlink, size: 4096, parent, children: new Map() });
  const nodes = new Map();
  const root = dirNode(1, 1, 4);
  const a = dirNode(2, 1, 2);
  const b = dirNode(3, 1, 2);
  const index = { nodeid: 4, ino: 4, mode: 0o100444, nlink: 1, content: Buffer.from('{"schemaVersion":2}\n') };
  const blob = { nodeid: 5, ino: BLOB_INO, mode: 0o100444, nlink: 2, size: BLOB_SIZE, blob: true };
  for (const n of [root, a, b, index, blob]) nodes.set(n.nodeid, n);
  root.children.set('a', 2).set('b', 3);
  a.children.set('index.json', 4).set('blob', 5);
  b.children.set('blob', 5);

  const st = {
    session: null, init: null, end: undefined, lookups: [], forgets: 0, counted: [], reads: new Map(),
    opens: [], jsHandles: new Map(), nextFh: 1, ops: new Map(), nodes, index,
  };
  const size = (n) => (n.content ? n.content.length : n.size);
  const fill = (arr, i, n) => {
    const o = i * core.ATTR_LEN;
    arr[o] = n ? n.nodeid : 0;
    arr[o + 1] = 0;
    arr[o + 2] = LONG;
    arr[o + 3] = LONG;
    if (!n) return;
    arr[o + 4] = n.ino;
    arr[o + 5] = size(n);
    arr[o + 6] = Math.ceil(size(n) / 512);
    arr[o + 7] = 1_700_000_000;
    arr[o + 8] = 500_000_000;
    arr[o + 9] = n.mode;
    arr[o + 10] = n.nlink;
    arr[o + 11] = uid;
    arr[o + 12] = gid;
    arr[o + 13] = 4096;
  };
  const one = (n) => {
    const r = new Float64Array(core.ATTR_LEN);
    fill(r, 0, n);
    return r;
  };

  st.fill = fill;
  st.handler = (op, unique, nodeid, x, y, z, name, ids) => {
    const s = st.session;
    st.ops.set(op, (st.ops.get(op) || 0) + 1);
    const n = nodes.get(nodeid);
    switch (op) {
      case core.OP.INIT:
        st.init = { minor: nodeid, maxPages: x, passthrough: y };
        return;
      case core.OP.END:
        st.end = x;
        return;
      case core.OP.COUNTED:
        st.counted.push(`${nodeid}:${[...ids].join(',')}`);
        return;
      case core.OP.FORGET:
        st.forgets++;
        return;
      case core.OP.LOOKUP: {
        st.lookups.push(`${nodeid}/${name}`);
        if (!n) return s.error(unique, ENOENT);
        // "." of any known node (files too) is how the kernel finds a node by
        // file handle (export support), also after it FORGOT the node.
        if (name === '.') return s.entry(unique, one(n));
        if (!n.children) return s.error(unique, 20);
        const c = name === '..' ? nodes.get(n.parent) : nodes.get(n.children.get(name));
        return s.entry(unique, one(c)); // nodeid 0: negative entry cached for LONG
      }
      case core.OP.GETATTR:
        if (!n) return s.error(unique, ENOENT);
        return s.attr(unique, one(n));
      case core.OP.OPEN:
        if (!n) return s.error(unique, ENOENT);
        if (n.children) return s.error(unique, EISDIR);
        if (n.blob) {
          const fd = fs.openSync(blobPath, 'r');
          st.opens.push(s.openBlob(unique, nodeid, fd));
          return;
        }
        {
          const fh = st.nextFh++;
          st.jsHandles.set(fh, nodeid);
          s.open(unique, fh, core.FOPEN_KEEP_CACHE);
        }
        return;
      case core.OP.READ: {
        st.reads.set(nodeid, (st.reads.get(nodeid) || 0) + 1);
        if (!n || !n.content || !st.jsHandles.has(x)) return s.error(unique, 9);
        const part = n.content.subarray(Math.min(y, n.content.length), Math.min(y + z, n.content.length));
        return s.data(unique, part, part.length);
      }
      case core.OP.RELEASE:
        st.jsHandles.delete(x);
        return;
      case core.OP.STATFS:
        return s.statfs(unique, 1000, 0, 0, 10, 0, 4096, 255, 4096);
      case core.OP.READDIR:
      case core.OP.READDIRPLUS: {
        if (!n || !n.children) return s.error(unique, 20);
        const names = ['.', '..', ...n.children.keys()];
        const targets = [n, nodes.get(n.parent), ...[...n.children.values()].map((id) => nodes.get(id))];
        const from = Math.min(y, names.length);
        const attrs = new Float64Array((names.length - from) * core.ATTR_LEN);
        for (let i = from; i < names.length; i++) fill(attrs, i - from, targets[i]);
        const fn = op === core.OP.READDIRPLUS ? 'dirplus' : 'dir';
        s[fn](unique, names.slice(from), attrs, from, z);
        return;
      }
      default:
        return s.error(unique, 38);
    }
  };
  return st;
}

function mountFs(dir, mnt, extra = {}) {
  const st = makeFs(dir);
  st.session = core.mount({
    mountpoint: mnt, fsname: 'layoutfs', subtype: 'layoutfs', allowOther: false,
    uid: process.getuid(), gid: process.getgid(), maxPages: 256, passthrough: true, threads: 4,
    fusermount: process.getuid() === 0 ? undefined : '/usr/bin/fusermount3', ...extra,
  }, st.handler);
  return st;
}

async function unmountAndEnd(st, what) {
  try {
    st.session.unmount();
  } catch (e) {
    return check(false, `${what}: unmount`, e.message);
  }
  const ended = await waitFor(() => st.end !== undefined, 10_000);
  return check(ended && st.end === 0, `${what}: unmount delivers END with errno 0`, `end=${st.end}`);
}

const sha = async (path) => {
  const r = await run('sha256sum', [path]);
  return r.code === 0 ? r.stdout.split(' ')[0] : `error ${r.stderr.trim()}`;
};

// ---------------------------------------------------------------------------
async function partRoot(dir) {
  const want = fs.readFileSync(join(dir, 'blob.sha256'), 'utf8').trim();
  const fhandle = join(dir, 'fhandle');
  const mnt = join(dir, 'mnt');

  // ---- passthrough mount
  let st = mountFs(dir, mnt, { passthrough: true });
  check(await waitFor(() => st.init), 'INIT reaches JS');
  const s0 = st.session.stats();
  console.log(`# kernel: FUSE 7.${st.init.minor}, maxPages ${st.init.maxPages}, passthrough ${st.init.passthrough ? 'granted' : 'not granted'}; stats ${JSON.stringify(s0)}`);
  check(st.init.minor >= 31 && s0.minor === st.init.minor, 'negotiated minor reported by INIT and stats()');

  let r = await run('ls', [join(mnt, 'a')]);
  check(r.code === 0 && r.stdout === 'blob\nindex.json\n', 'ls a/ (readdirplus)', JSON.stringify(r));
  const lookupsBefore = st.lookups.filter((l) => l === '2/blob').length;
  r = await run('stat', ['-c', '%i %h %a %s', join(mnt, 'a/blob')]);
  check(st.lookups.filter((l) => l === '2/blob').length === lookupsBefore,
    'stat of a/blob after readdir of a/ causes no LOOKUP in JS', st.lookups.join(','));
  r = await run('stat', ['-c', '%i %h %a %s', join(mnt, 'a/blob'), join(mnt, 'b/blob')]);
  const lines = r.stdout.trim().split('\n');
  check(r.code === 0 && lines.length === 2 && lines[0] === lines[1] && lines[0] === `${BLOB_INO} 2 444 ${BLOB_SIZE}`,
    'a/blob and b/blob: same st_ino above 2^32, nlink 2, mode 0444', JSON.stringify(lines));
  r = await run('ls', ['-la', mnt]);
  check(r.code === 0 && /\ba$/m.test(r.stdout) && /\bb$/m.test(r.stdout), 'ls -la /', r.stderr);
  // Listings handed over ahead: answered natively, unserved entries handed back to uncount.
  const bListing = new Float64Array(3 * core.ATTR_LEN);
  st.fill(bListing, 2, st.nodes.get(5));
  const ids = (a) => JSON.stringify(a && [...a]);
  check(ids(st.session.preList(3, ['.', '..', 'blob'], bListing)) === '[]', 'preList keeps a listing, hands nothing back');
  check(ids(st.session.preList(3, ['.', '..', 'blob'], bListing)) === '[5]', 'preList of the same directory hands back the unserved entry');
  check(ids(st.session.dropListings()) === '[5]', 'dropListings hands back the unserved entry');
  check(ids(st.session.preList(3, ['.', '..', 'x'.repeat(1000)], bListing)) === '[]', 'preList again after a drop');
  check(ids(st.session.preList(3, ['.', '..', 'blob'], bListing)) === '[5]', 'the replaced listing is handed back');
  const big = Array.from({ length: 600 }, (_, i) => `${i}`.padEnd(1000, 'x'));
  check(st.session.preList(2, big, new Float64Array(600 * core.ATTR_LEN)) === null, 'a listing above the bound is not kept (null)');
  const listingsBefore = st.ops.get(core.OP.READDIRPLUS) || 0;
  const served = st.session.stats().listingsServed;
  r = await run('ls', [join(mnt, 'b')]);
  check(r.code === 0 && r.stdout === 'blob\n', 'ls b/', JSON.stringify(r));
  check((st.ops.get(core.OP.READDIRPLUS) || 0) === listingsBefore && st.session.stats().listingsServed === served + 1,
    'ls b/ answered from the listing handed over, no READDIRPLUS in JS', JSON.stringify(st.session.stats()));
  check(st.counted.join(' ') === '3:5', 'the reply was announced with the lookup it gives (COUNTED 3: 5)', st.counted.join(' '));
  check(ids(st.session.dropListings()) === '[]', 'a listing served to its end leaves');
  r = await run('stat', ['-c', '%i', join(mnt, 'a/missing')]);
  check(r.code !== 0 && /No such file/.test(r.stderr), 'missing name gives ENOENT (negative entry)', r.stderr);
  r = await run('stat', ['-f', '-c', '%b %s', mnt]);
  check(r.code === 0 && r.stdout.trim() === '1000 4096', 'statfs', r.stdout + r.stderr);

  const [ha, hb] = await Promise.all([sha(join(mnt, 'a/blob')), sha(join(mnt, 'b/blob'))]);
  check(ha === want && hb === want, 'content through a/blob and b/blob equals the source (sha256)', `${ha} ${hb}`);
  let s1 = st.session.stats();
  if (st.init.passthrough) {
    check(s1.passthroughOpens > 0 && s1.passthroughErrno === 0, 'blob opens went passthrough', JSON.stringify(s1));
  } else {
    console.log('# passthrough not granted by this kernel: blob opens were direct');
  }
  check(!st.reads.get(5), 'no READ of a blob reached JS');

  r = await run('cat', [join(mnt, 'a/index.json')]);
  check(r.code === 0 && r.stdout === st.index.content.toString(), 'a/index.json served from JS (open + data)', JSON.stringify(r));
  check(st.reads.get(4) > 0, 'a/index.json READ reached JS');

  r = await run('touch', [join(mnt, 'a/new')]);
  check(r.code !== 0 && /Read-only file system/.test(r.stderr), 'touch gets EROFS', r.stderr);
  r = await run('sh', ['-c', `echo x > ${join(mnt, 'a/index.json')}`]);
  check(r.code !== 0 && /Read-only file system/.test(r.stderr), 'echo > file gets EROFS', r.stderr);
  r = await run('mkdir', [join(mnt, 'a/d')]);
  check(r.code !== 0 && /Read-only file system/.test(r.stderr), 'mkdir gets EROFS', r.stderr);

  // ---- invalidation (timeouts are an hour: only the notifications can do it)
  r = await run('cat', [join(mnt, 'a/index.json')]);
  st.index.content = Buffer.from('{"schemaVersion":2,"manifests":["changed and longer"]}\n');
  const q1 = st.session.notifyInvalEntry(2, 'index.json');
  const q2 = st.session.notifyInvalInode(4, 0, 0);
  check(q1 === true && q2 === true, 'notifications queued');
  await waitFor(() => st.session.stats().notifySent >= 2, 5_000);
  r = await run('cat', [join(mnt, 'a/index.json')]);
  check(r.stdout === st.index.content.toString(), 'new content visible after notifyInvalEntry + notifyInvalInode', JSON.stringify(r.stdout));
  s1 = st.session.stats();
  check(s1.notifyFailed === 0, 'no notification failed', JSON.stringify(s1));

  // ---- 8 concurrent opens of one blob
  const opensBefore = st.opens.length;
  const hs = await Promise.all(Array.from({ length: 8 }, (_, i) => sha(join(mnt, i % 2 ? 'a/blob' : 'b/blob'))));
  check(hs.every((h) => h === want), '8 concurrent reads of the blob are correct', hs.join(' '));
  check(st.opens.length - opensBefore === 8 && st.opens.slice(opensBefore).every((k) => k === (st.init.passthrough ? 'passthrough' : 'direct')),
    `8 concurrent opens were all ${st.init.passthrough ? 'passthrough' : 'direct'}`, st.opens.join(','));
  check(!st.reads.get(5), 'still no blob READ in JS');

  // ---- export: open by handle after the kernel dropped its caches
  r = await run(fhandle, ['encode', join(mnt, 'a/blob')]);
  const [htype, hex] = r.stdout.trim().split(' ');
  check(r.code === 0 && hex, 'name_to_handle_at on a/blob', r.stderr);
  const forgetsBefore = st.forgets;
  await fs.promises.writeFile('/proc/sys/vm/drop_caches', '3\n');
  await waitFor(() => st.forgets > forgetsBefore, 3_000);
  console.log(`# drop_caches: ${st.forgets - forgetsBefore} FORGET(s) reached JS`);
  const dotsBefore = st.lookups.filter((l) => l.endsWith('/.')).length;
  r = await run(fhandle, ['open', mnt, htype, hex]);
  check(r.code === 0 && r.stdout.trim() === String(BLOB_SIZE), 'open_by_handle_at after drop_caches', r.stdout + r.stderr);
  console.log(`# LOOKUP(nodeid, ".") calls during open by handle: ${st.lookups.filter((l) => l.endsWith('/.')).length - dotsBefore}`);

  s1 = st.session.stats();
  check(s1.writeErrors === 0, 'no reply write errors', JSON.stringify(s1));
  console.log(`# stats (passthrough mount): ${JSON.stringify(s1)}`);
  await unmountAndEnd(st, 'passthrough mount');

  // ---- direct reads
  st = mountFs(dir, mnt, { passthrough: false });
  check(await waitFor(() => st.init), 'second mount: INIT');
  const [da, db] = await Promise.all([sha(join(mnt, 'a/blob')), sha(join(mnt, 'b/blob'))]);
  check(da === want && db === want, 'passthrough:false: content equals the source', `${da} ${db}`);
  s1 = st.session.stats();
  check(!s1.passthrough && s1.passthroughOpens === 0 && s1.directOpens > 0 && s1.directReads > 0,
    'passthrough:false: blob opens direct, reads answered natively', JSON.stringify(s1));
  check(s1.splicedReads === s1.directReads, 'passthrough:false: every native read is spliced (one copy)', JSON.stringify(s1));
  const dh = await Promise.all(Array.from({ length: 8 }, (_, i) => sha(join(mnt, i % 2 ? 'a/blob' : 'b/blob'))));
  check(dh.every((h) => h === want), 'passthrough:false: 8 concurrent reads are correct', dh.join(' '));
  check(!st.reads.get(5), 'passthrough:false: no blob READ in JS');
  r = await run('cat', [join(mnt, 'a/index.json')]);
  check(r.code === 0 && r.stdout === st.index.content.toString(), 'passthrough:false: index.json', JSON.stringify(r));
  console.log(`# stats (direct mount): ${JSON.stringify(s1)}`);
  await unmountAndEnd(st, 'direct mount');

  // ---- a mount whose process was killed with -9: its watchdog unmounts it; with the
  // watchdog killed too, the dead mount is detached and mounted again
  const mnt2 = join(dir, 'mnt2');
  const isMount = (p) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);
  const watchdogOf = (pid) => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).find((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'layoutfs-umount'
        && fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(pid);
    } catch {
      return false;
    }
  });
  {
    const first = spawn(process.execPath, [fileURLToPath(import.meta.url), '--part=victim', `--dir=${dir}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    first.stdout.on('data', (d) => { said += d; });
    check(await waitFor(() => said.includes('ready'), 15_000), 'first victim process mounted');
    check(watchdogOf(first.pid) !== undefined, 'a root mount has a watchdog child (layoutfs-umount)');
    first.kill('SIGKILL');
    await new Promise((res) => first.once('exit', res));
    check(await waitFor(() => !isMount(mnt2), 5000), 'after kill -9 the watchdog unmounted it');
  }
  const victim = spawn(process.execPath, [fileURLToPath(import.meta.url), '--part=victim', `--dir=${dir}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  victim.stdout.on('data', (d) => { out += d; });
  const ready = await waitFor(() => out.includes('ready'), 15_000);
  check(ready, 'victim process mounted');
  const dog = watchdogOf(victim.pid);
  if (dog) process.kill(Number(dog), 'SIGKILL');
  victim.kill('SIGKILL');
  await new Promise((res) => victim.once('exit', res));
  r = await run('stat', [mnt2]);
  check(r.code !== 0 && /not connected/.test(r.stderr), 'the killed mount is dead (ENOTCONN)', r.stderr.trim());
  try {
    core.detach(mnt2, undefined);
    check(true, 'core.detach of the dead mount');
  } catch (e) {
    check(false, 'core.detach of the dead mount', e.message);
  }
  st = mountFs(dir, mnt2);
  r = await run('cat', [join(mnt2, 'a/index.json')]);
  check(r.code === 0 && r.stdout === st.index.content.toString(), 'mount again after detach', JSON.stringify(r));
  let detachErr = '';
  try {
    core.detach(join(dir, 'not-a-mount'), undefined);
  } catch (e) {
    detachErr = e.message;
  }
  check(/^umount2\(.*\) failed: E[A-Z]+$/.test(detachErr), 'detach of a non-mount throws a one-line error', detachErr);
  await unmountAndEnd(st, 'remount');
  // Nothing left to keep the loop alive: the parent checks this process exits.
}

async function partVictim(dir) {
  const st = mountFs(dir, join(dir, 'mnt2'));
  await waitFor(() => st.init);
  console.log('ready');
}

async function partNolib(dir) {
  const want = fs.readFileSync(join(dir, 'blob.sha256'), 'utf8').trim();
  for (const f of ['/usr/bin/fusermount3', '/usr/bin/fusermount']) {
    if (fs.existsSync(f)) check(fs.statSync(f).isCharacterDevice(), `${f} is hidden`);
  }
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  check(!/libfuse/.test(maps), 'no libfuse mapped in this process');
  const mnt = join(dir, 'mnt');
  const st = mountFs(dir, mnt);
  check(await waitFor(() => st.init), 'nolib: INIT');
  const r = await run('cat', [join(mnt, 'a/index.json')]);
  check(r.code === 0 && r.stdout === st.index.content.toString(), 'nolib: read index.json', JSON.stringify(r));
  check((await sha(join(mnt, 'b/blob'))) === want, 'nolib: blob content');
  check(!/libfuse/.test(fs.readFileSync('/proc/self/maps', 'utf8')), 'still no libfuse mapped');
  await unmountAndEnd(st, 'nolib');
}

async function partUser(dir) {
  const want = fs.readFileSync(join(dir, 'blob.sha256'), 'utf8').trim();
  const mnt = join(dir, 'umnt');
  let msg = '';
  try {
    core.mount({ mountpoint: mnt, fusermount: undefined }, () => {});
  } catch (e) {
    msg = e.message;
  }
  check(msg === 'non-root mounts need fusermount3 (setuid) from the fuse3 package; not found', 'non-root without fusermount3 throws', msg);
  const st = mountFs(dir, mnt, { fusermount: '/usr/bin/fusermount3' });
  check(await waitFor(() => st.init), 'user: INIT');
  const r = await run('cat', [join(mnt, 'a/index.json')]);
  check(r.code === 0 && r.stdout === st.index.content.toString(), 'user: read index.json', JSON.stringify(r));
  check((await sha(join(mnt, 'a/blob'))) === want, 'user: blob content');
  const s = st.session.stats();
  check(!s.passthrough && s.directReads > 0, 'user: no passthrough for non-root; direct reads', JSON.stringify(s));
  await unmountAndEnd(st, 'user');
}

// ---------------------------------------------------------------------------
function runPart(name, cmd, args, timeoutMs = 240_000) {
  return new Promise((resolve) => {
    console.log(`# --- part ${name}`);
    const child = spawn(cmd, args, { stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.log(`not ok - part ${name} did not exit within ${timeoutMs / 1000}s`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve(check(code === 0, `part ${name} passed and exited on its own`, `code=${code} signal=${sig}`));
    });
  });
}

// lstatMtimes: one job for many files, each as lstat sees it (a symlink's own mtime), NaN where it fails.
async function checkLstatMtimes(dir) {
  fs.symlinkSync(join(dir, 'blob'), join(dir, 'link'));
  fs.lutimesSync(join(dir, 'link'), 1000, 1000);
  const paths = [join(dir, 'blob'), join(dir, 'missing'), join(dir, 'link')];
  const got = await core.lstatMtimes(paths);
  check(got instanceof Float64Array && got.length === 3, 'lstatMtimes answers a Float64Array, one number per path');
  check(got[0] === fs.lstatSync(paths[0]).mtimeMs && Number.isNaN(got[1]) && got[2] === 1_000_000,
    'lstatMtimes: mtimes as lstat gives them, NaN for a missing file, a symlink not followed', String([...got]));
  let thrown = '';
  try { core.lstatMtimes(['a\0b']); } catch (e) { thrown = e.message; }
  check(thrown === 'paths must not contain NUL', 'lstatMtimes refuses a path with NUL', thrown);
  fs.unlinkSync(join(dir, 'link'));
}

function cleanupMounts(dir) {
  for (const m of ['mnt', 'mnt2', 'umnt']) spawnSync('umount', ['-l', join(dir, m)], { stdio: 'ignore' });
}

async function main() {
  if (!core.available) {
    console.log(`not ok - native core not available: ${core.reason}`);
    process.exit(1);
  }
  if (process.getuid() !== 0) {
    console.log('not ok - run the smoke test as root (it runs its non-root part as nobody itself)');
    process.exit(1);
  }
  const dir = fs.mkdtempSync('/tmp/lfs-smoke-');
  fs.chmodSync(dir, 0o755);
  const self = fileURLToPath(import.meta.url);
  let devMode;
  try {
    for (const m of ['mnt', 'mnt2']) fs.mkdirSync(join(dir, m));
    fs.mkdirSync(join(dir, 'umnt'));
    fs.chownSync(join(dir, 'umnt'), 65534, 65534);
    // the blob
    const fd = fs.openSync(join(dir, 'blob'), 'w', 0o644);
    const h = createHash('sha256');
    for (let i = 0; i < BLOB_SIZE; i += 1 << 20) {
      const chunk = randomBytes(1 << 20);
      h.update(chunk);
      fs.writeSync(fd, chunk);
    }
    fs.closeSync(fd);
    fs.chmodSync(join(dir, 'blob'), 0o644);
    fs.writeFileSync(join(dir, 'blob.sha256'), `${h.digest('hex')}\n`);
    await checkLstatMtimes(dir);
    const cc = spawnSync('cc', ['-O2', '-o', join(dir, 'fhandle'), join(here, 'fhandle.c')], { encoding: 'utf8' });
    if (!check(cc.status === 0, 'compile test/fhandle.c', cc.stderr)) process.exit(1);

    await runPart('root', process.execPath, [self, '--part=root', `--dir=${dir}`]);
    cleanupMounts(dir);

    const hide = ['/usr/bin/fusermount3', '/usr/bin/fusermount'];
    for (const d of ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu']) {
      let names = [];
      try { names = fs.readdirSync(d); } catch { continue; }
      for (const n of names) if (/^libfuse.*\.so/.test(n)) hide.push(join(d, n));
    }
    const binds = [...new Set(hide.filter((f) => fs.existsSync(f)).map((f) => fs.realpathSync(f)).concat(hide.filter((f) => fs.existsSync(f))))]
      .map((f) => `mount --bind /dev/null '${f}'`).join(' && ');
    console.log(`# hiding: ${hide.join(' ')}`);
    await runPart('nolib', 'unshare', ['-m', '--propagation', 'private', 'sh', '-c',
      `${binds || 'true'} && exec '${process.execPath}' '${self}' --part=nolib --dir='${dir}'`]);
    cleanupMounts(dir);

    devMode = fs.statSync('/dev/fuse').mode & 0o7777;
    fs.chmodSync('/dev/fuse', 0o666);
    await runPart('user', 'setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups',
      process.execPath, self, '--part=user', `--dir=${dir}`]);
  } finally {
    if (devMode !== undefined) fs.chmodSync('/dev/fuse', devMode);
    cleanupMounts(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(failures ? `# FAILED: ${failures} check(s)` : '# all checks passed');
  process.exit(failures ? 1 : 0);
}

const part = arg('part');
const parts = { root: partRoot, victim: partVictim, nolib: partNolib, user: partUser };
if (part) {
  const fn = parts[part];
  if (!fn) {
    console.log(`unknown part ${part}`);
    process.exit(2);
  }
  fn(arg('dir')).then(
    () => { process.exitCode = failures ? 1 : 0; },
    (e) => { console.log(`not ok - part ${part} threw: ${e && e.stack}`); process.exit(1); },
  );
} else {
  main().catch((e) => {
    console.log(`not ok - ${e && e.stack}`);
    process.exit(1);
  });
}
