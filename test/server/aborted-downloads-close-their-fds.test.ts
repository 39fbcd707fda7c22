import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { LayoutBuilder } from '../fixtures/layout-builder.js';
import { waitFor } from '../fixtures/mount.js';
import { tempDir } from '../fixtures/temp.js';
import { startInProcess } from '../fixtures/serve.js';

/** Open fds of this process that point at `file`. */
function fdsOn(file: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // Closed while we looked.
    }
  }
  return n;
}

test('a client that vanishes mid-download leaves no blob fd open', async (t) => {
  const store = join(tempDir(t), 'store');
  const b = new LayoutBuilder(store);
  const layer = b.blob(randomBytes(32 * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar');
  const config = b.json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }, 'application/vnd.oci.image.config.v1+json');
  b.add(b.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] },
    'application/vnd.oci.image.manifest.v1+json'), 'example.com/big:1').write();
  const { hostPort, view } = await startInProcess(t, store);
  const file = view.store.blobFile(layer.digest as never);
  const [host, port] = hostPort.split(':');

  for (const target of [`/v2/example.com/big/blobs/${layer.digest}`, `/layouts/example.com/big/1/blobs/sha256/${layer.digest.slice(7)}`]) {
    for (const range of ['', 'Range: bytes=0-10,20000000-30000000\r\n']) {
      const socket = connect(Number(port), host);
      let received = 0;
      await new Promise<void>((resolve) => {
        socket.on('data', (d) => {
          received += d.length;
          // Some bytes arrived: the server holds the fd now. Vanish without reading the rest.
          if (received > 256 * 1024) {
            assert.ok(fdsOn(file) >= 1, 'the download holds an fd while it runs');
            socket.destroy();
            resolve();
          }
        });
        socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n${range}\r\n`);
      });
      await waitFor(`the fd on the blob closed (${target} ${range.trim()})`, () => fdsOn(file) === 0, 5000);
    }
  }
});
