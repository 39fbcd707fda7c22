import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackgroundQueue } from '../../src/view/background-queue.js';

test('background work runs at most `concurrency` at once, drops what is beyond the waiting bound, and survives failures', async () => {
  const q = new BackgroundQueue(2, 3);
  let running = 0;
  let most = 0;
  const done: number[] = [];
  const releases: (() => void)[] = [];
  const job = (n: number, fail = false) => async () => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => releases.push(resolve));
    running--;
    done.push(n);
    if (fail) throw new Error('ahead of need, and failed');
  };
  // Two start, three wait, the sixth is dropped.
  const ran = [0, 1, 2, 3, 4, 5].map((n) => q.add(job(n, n === 0)));
  assert.equal(ran[5], undefined, 'the sixth is dropped, and says so');
  const settled: number[] = [];
  ran.forEach((p, n) => void p?.then(() => settled.push(n)));
  while (done.length < 5) {
    await new Promise((r) => setImmediate(r));
    releases.shift()?.();
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(most, 2);
  assert.deepEqual(done.sort(), [0, 1, 2, 3, 4]);
  assert.equal(releases.length, 0);
  assert.deepEqual(settled.sort(), [0, 1, 2, 3, 4], 'each queued item settles once run, the failed one too');
});
