import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFixtureStore } from '../fixtures/layout-builder.js';
import { fuseOpCount, requireFuse, servedUrl, startMount } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { requireRoot } from '../fixtures/requirements.js';

/** A file handle (name_to_handle_at) and an open by it (open_by_handle_at): what knfsd and nfs-ganesha do. */
const FHANDLE_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "encode")) {
    struct file_handle *h = calloc(1, sizeof *h + 128); int id; h->handle_bytes = 128;
    if (name_to_handle_at(AT_FDCWD, argv[2], h, &id, 0)) { perror("name_to_handle_at"); return 1; }
    printf("%d ", h->handle_type);
    for (unsigned i = 0; i < h->handle_bytes; i++) printf("%02x", h->f_handle[i]);
    printf("\n"); return 0;
  }
  if (argc == 5 && !strcmp(argv[1], "open")) {
    int mfd = open(argv[2], O_RDONLY | O_DIRECTORY); size_t n = strlen(argv[4]) / 2;
    struct file_handle *h = calloc(1, sizeof *h + n); h->handle_bytes = n; h->handle_type = atoi(argv[3]);
    for (size_t i = 0; i < n; i++) sscanf(argv[4] + 2 * i, "%2hhx", &h->f_handle[i]);
    int fd = open_by_handle_at(mfd, h, O_RDONLY); if (fd < 0) { perror("open_by_handle_at"); return 1; }
    struct stat st; fstat(fd, &st); printf("%lld %llu\n", (long long)st.st_size, (unsigned long long)st.st_ino); return 0;
  }
  return 2;
}
`;

test('file handles stay valid after the kernel drops its caches (NFS re-export): blobs, synthetic files, directories', async (t) => {
  if (!requireFuse(t)) return;
  if (!requireRoot(t, 'open_by_handle_at and drop_caches need root')) return;
  const dir = tempDir(t);
  const store = join(dir, 'store');
  const fx = buildFixtureStore(store);
  writeFileSync(join(dir, 'fhandle.c'), FHANDLE_C);
  const cc = spawnSync('cc', ['-O2', '-o', join(dir, 'fhandle'), join(dir, 'fhandle.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `cc: ${cc.stderr}`);
  const fhandle = (...args: string[]) => execFileSync(join(dir, 'fhandle'), args, { encoding: 'utf8' }).trim();

  const m = await startMount(t, store, undefined, ['--serve', '127.0.0.1:0']);
  const url = await servedUrl(m);
  const paths = [`latest/blobs/sha256/${fx.app.digest.slice(7)}`, 'latest/index.json', 'latest/blobs', 'docker.io/library/multi/2'];
  const handles = paths.map((p) => {
    const st = statSync(join(m.dir, p));
    return { p, st, handle: fhandle('encode', join(m.dir, p)).split(' ') };
  });
  // The kernel forgets every node it is not using; layoutfs gets FORGETs and drops them too.
  execFileSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches']);
  for (const { p, st, handle } of handles) {
    const [size, ino] = fhandle('open', m.dir, handle[0]!, handle[1]!).split(' ');
    assert.equal(ino, String(st.ino), `${p}: the handle opens the same node`);
    if (st.isFile()) assert.equal(Number(size), st.size, `${p}: the same file`);
  }
  // The kernel had forgotten them: each was found again by its id alone.
  assert.ok(await fuseOpCount(url, 'by_id') >= paths.length, 'nodes looked up by id after the kernel forgot them');
});
