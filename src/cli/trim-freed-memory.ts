import { nativeStoreCalls } from '../store/native-store-calls.js';

const EVERY_MS = 10_000;

/**
 * For the long-running commands (mount, serve): every ten seconds, hands the pages malloc holds
 * free back to the kernel (native/fuse-core/API.md: trimMemory, on the thread pool). glibc keeps
 * what a process frees, so a refresh dropping a blob table of 20 MiB, or a crawl's churn of
 * reply buffers, left RSS at its high-water mark: after a crawl of every view at 50k, malloc's
 * heap held 161 MiB for 96 MiB of live buffers. Nothing to do without the addon. Returns the stop.
 */
export function trimFreedMemory(): () => void {
  const native = nativeStoreCalls<{ trimMemory(): Promise<boolean> }>(['trimMemory']);
  if (!native) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void native.trimMemory().finally(() => (running = false));
  }, EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
