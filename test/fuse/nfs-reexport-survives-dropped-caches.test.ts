import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { expectedViews } from '../fixtures/expected-views.js';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount, waitFor } from '../fixtures/mount.js';
import { requireRoot, requireTool, unavailable } from '../fixtures/requirements.js';
import { tempDir } from '../fixtures/temp.js';

/**
 * nfs-ganesha's FSAL_VFS keeps a file handle (name_to_handle_at) per object and reopens it with
 * open_by_handle_at: the path a knfsd or ganesha re-export takes once the kernel has forgotten
 * the FUSE node. NFSv4 only: ganesha then starts without rpcbind (a failed portmapper
 * registration is fatal for v3 only), so nothing listens beyond 127.0.0.1 and no system service
 * is touched. libnfs-utils is the client, in userspace: the test needs no NFS in the kernel.
 */
const GANESHA_CONF = (mnt: string, port: number, recovery: string) => `
NFS_CORE_PARAM {
  Bind_addr = 127.0.0.1;
  NFS_Port = ${port};
  Protocols = 4;
  Enable_NLM = false;
  Enable_RQUOTA = false;
  Enable_UDP = false;
}
NFS_KRB5 { Active_krb5 = false; }
NFSV4 { Graceless = true; Only_Numeric_Owners = true; RecoveryRoot = "${recovery}"; }
# Close the files a read opened within a second or two, so the kernel may forget them too.
MDCACHE { LRU_Run_Interval = 1; FD_LWMark_Percent = 0; FD_HWMark_Percent = 1; }
EXPORT {
  Export_Id = 1;
  Path = "${mnt}";
  Pseudo = /layoutfs;
  Access_Type = RO;
  Squash = No_Root_Squash;
  Protocols = 4;
  Transports = TCP;
  SecType = sys;
  # Every NFS request revalidates through FSAL_VFS (open_by_handle_at), not ganesha's own cache.
  Attr_Expiration_Time = 0;
  FSAL { Name = VFS; }
}
`;

/** Where Debian (and others) install ganesha's FSAL_VFS, package nfs-ganesha-vfs. */
function fsalVfsInstalled(): boolean {
  const dirs = ['/usr/lib/ganesha', '/usr/lib64/ganesha'];
  for (const d of readdirSync('/usr/lib')) dirs.push(join('/usr/lib', d, 'ganesha'));
  return dirs.some((d) => existsSync(join(d, 'libfsalvfs.so')));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The files below `dir` that process `pid` holds open (`dir` itself excluded). */
function openFilesUnder(pid: number, dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith(dir + '/')) open.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

/** SIGTERM (ganesha unexports and exits within about two seconds), SIGKILL after ten. */
async function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  if (proc?.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const sha256 = (bytes: Buffer) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

test('an NFS re-export (nfs-ganesha, FSAL_VFS) keeps serving its file handles after the kernel drops its caches', async (t: TestContext) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'ganesha exports with open_by_handle_at, and drop_caches needs root')) return;
  if (!requireTool(t, 'ganesha.nfsd', 'nfs-cat', 'nfs-ls')) return;
  if (!fsalVfsInstalled()) {
    unavailable(t, 'FSAL_VFS', 'libfsalvfs.so not found; run .ci/run (it installs the test peers) or apt-get install nfs-ganesha-vfs');
    return;
  }
  // Hooks run in the order they are added: ganesha lets go of the mount before it is stopped.
  let ganesha: ChildProcess | undefined;
  t.after(() => stopProcess(ganesha));
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  const latest = expectedViews(store).find((v) => v.name === 'latest')!;

  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);

  const port = await freePort();
  const conf = join(dir, 'ganesha.conf');
  const log = join(dir, 'ganesha.log');
  writeFileSync(conf, GANESHA_CONF(m.dir, port, join(dir, 'ganesha-recovery')));
  ganesha = spawn('ganesha.nfsd', ['-F', '-f', conf, '-L', log, '-p', join(dir, 'ganesha.pid'), '-N', 'NIV_EVENT'], { stdio: 'ignore' });
  const ganeshaLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '(no log)');
  const proc = ganesha;
  await waitFor('ganesha to start', () => {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`ganesha.nfsd exited (${proc.exitCode ?? proc.signalCode}):\n${ganeshaLog()}`);
    return ganeshaLog().includes('NFS SERVER INITIALIZED');
  }, 20_000);

  /** nfs-cat / nfs-ls of `path` in the export, over NFSv4 to ganesha's port (no portmapper). */
  const nfs = (tool: 'nfs-cat' | 'nfs-ls', path: string): Buffer => {
    try {
      return execFileSync(tool, [`nfs://127.0.0.1/layoutfs/${path}?version=4&nfsport=${port}`], { timeout: 15_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      const said = e.stderr?.toString() ?? '';
      throw new Error(`${tool} ${path}: ${said.length > 0 ? said : e.message}\nganesha log:\n${ganeshaLog().split('\n').slice(-20).join('\n')}`, { cause: err });
    }
  };
  const manifest = `latest/blobs/sha256/${fx.app.digest.slice(7)}`;
  const indexJson = readFileSync(join(m.dir, 'latest/index.json'));
  const reads = () => {
    const blob = nfs('nfs-cat', manifest);
    assert.equal(sha256(blob), fx.app.digest, 'the manifest blob over NFS has its digest');
    assert.deepEqual(blob, readFileSync(join(store, 'blobs/sha256', fx.app.digest.slice(7))), 'the manifest blob over NFS is the store file');
    assert.deepEqual(nfs('nfs-cat', 'latest/index.json'), indexJson, 'index.json over NFS is the view\'s');
    const names = nfs('nfs-ls', 'latest/blobs/sha256').toString().split('\n').filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/).at(-1)!).filter((n) => n !== '.' && n !== '..');
    assert.deepEqual(names.sort(), [...latest.blobs].map((d) => d.slice(7)).sort(), 'the blobs directory over NFS lists the view\'s blobs');
  };

  // Ganesha looks everything up and keeps a handle per object...
  reads();
  // ...and closes the files it read, so nothing under the export root pins a kernel node.
  await waitFor('ganesha to close the files it read', () => openFilesUnder(proc.pid!, m.dir).length === 0);
  const byIdBefore = await fuseOpCount(url, 'by_id');

  // The kernel forgets every FUSE node not in use; layoutfs gets FORGETs and drops them too.
  execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']);

  // The same ganesha, with the handles it had before: each is reopened by its node id alone.
  // Without export support this is NFS4ERR_STALE (NFS3ERR_STALE over v3).
  reads();
  const byId = (await fuseOpCount(url, 'by_id')) - byIdBefore;
  assert.ok(byId >= 3, `nodes the kernel had forgotten were found again by id (${byId}): latest/, blobs/, sha256/ at least`);
});
