import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { nativeStoreCalls } from '../store/native-store-calls.js';

const EVERY_MS = 10_000;
/** An event loop busy less than this share of a period is idle. */
const IDLE = 0.05;
/**
 * Heap grown this much since the last full collection, and by half, makes an idle one worth its
 * pause (two full collections of a 250 MiB heap cost 0.1-0.2 s): a mount idling between small
 * store changes is not collected after every few.
 */
const GROWN_BYTES = 64 * 2 ** 20;
const GROWN_SHARE = 1.5;

/** V8's full collection: Node hands it to JavaScript only under --expose-gc, which a fresh context sees once set. */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * For the long-running commands (mount, serve), every `everyMs` (ten seconds):
 * - when the period was idle and the V8 heap has grown by 64 MiB and by half since the last full
 *   collection, collects it in full. V8 collects the old generation as allocation goes on, so the garbage a
 *   burst left (a crawl of every view) stayed for good once the burst ended: after a crawl at
 *   10,000 references, 211 MiB of heap in use for 80 MiB live, for as long as the mount ran;
 *   whether a collection happened to fall late in the burst decided the RSS left. A test
 *   program's 186 MiB of garbage among live objects: RSS 273 -> 195 MiB after one collection,
 *   92 MiB after two (163 ms, idle).
 * - hands the pages malloc holds free back to the kernel (native/fuse-core/API.md: trimMemory,
 *   on the thread pool). glibc keeps what a process frees, so a refresh dropping a blob table of
 *   20 MiB, or a crawl's churn of reply buffers, left RSS at its high-water mark: after a crawl
 *   of every view at 50k, malloc's heap held 161 MiB for 96 MiB of live buffers. Not without the
 *   addon.
 * Returns the stop.
 */
export function trimFreedMemory(everyMs = EVERY_MS): () => void {
  const native = nativeStoreCalls<{ trimMemory(): Promise<boolean> }>(['trimMemory']);
  const collect = fullCollection();
  let collectedAt = getHeapStatistics().used_heap_size;
  let loop = performance.eventLoopUtilization();
  let running = false;
  const timer = setInterval(() => {
    const idle = performance.eventLoopUtilization(loop).utilization < IDLE;
    const used = getHeapStatistics().used_heap_size;
    if (idle && used > collectedAt + GROWN_BYTES && used > collectedAt * GROWN_SHARE) {
      // Twice: the second moves what the first left scattered, so whole pages go back.
      collect();
      collect();
      collectedAt = getHeapStatistics().used_heap_size;
    } else {
      // V8 collected meanwhile: growth counts from there.
      collectedAt = Math.min(collectedAt, used);
    }
    loop = performance.eventLoopUtilization();
    if (!native || running) return;
    running = true;
    void native.trimMemory().finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
