import { join } from 'node:path';
import { DIGEST_ALGORITHMS, type DigestAlgorithm } from '../../oci/digest.js';
import { nativeStoreCalls } from '../native-store-calls.js';

interface WatchCore {
  watchDirs(dirs: string[]): number[];
  watchDrain(fd: number): (number | string)[];
  watchClose(fd: number): void;
}

function watchCore(): WatchCore | null {
  return nativeStoreCalls<WatchCore>(['watchDirs', 'watchDrain', 'watchClose']);
}

/** Closes the descriptor of a watch nobody holds any more (a View has no close). */
const unreachable = new FinalizationRegistry<number>((fd) => watchCore()?.watchClose(fd));

/** What a drain tells: the names that came or went per algorithm, or that it cannot tell (`lost`). */
export type Drained = { lost: true } | { lost: false; names: { alg: DigestAlgorithm; name: string }[] };

/**
 * The names created, removed or renamed under blobs/<alg>/ since the watch was opened or last
 * drained, from the kernel (native/fuse-core/src/dir-watch.c): a refresh after an import learns
 * the blobs that came instead of listing every blob again. Open it before the listing it is to
 * bring up to date. blobs/ itself is watched too: a blobs/<alg> made after the watch, or
 * anything that makes events go missing (the kernel's queue overflowing, a watched directory
 * replaced), drains as `lost`, and the caller lists everything again.
 */
export class BlobWatch {
  private open = true;

  private constructor(private readonly fd: number, private readonly wds: Map<number, DigestAlgorithm | null>) {
    unreachable.register(this, fd, this);
  }

  /** A watch of `root`'s blob directories; undefined without the native core or when blobs/ cannot be watched. */
  static open(root: string): BlobWatch | undefined {
    const c = watchCore();
    if (!c) return undefined;
    const dirs = [join(root, 'blobs'), ...DIGEST_ALGORITHMS.map((alg) => join(root, 'blobs', alg))];
    const [fd, top, ...algs] = c.watchDirs(dirs) as [number, number, ...number[]];
    if (fd < 0) return undefined;
    if (top < 0) {
      c.watchClose(fd);
      return undefined;
    }
    const wds = new Map<number, DigestAlgorithm | null>([[top, null]]);
    DIGEST_ALGORITHMS.forEach((alg, i) => algs[i]! >= 0 && wds.set(algs[i]!, alg));
    return new BlobWatch(fd, wds);
  }

  drain(): Drained {
    if (!this.open) return { lost: true };
    const [lost, ...events] = watchCore()!.watchDrain(this.fd) as [number, ...(number | string)[]];
    if (lost !== 0) return { lost: true };
    const names: { alg: DigestAlgorithm; name: string }[] = [];
    for (let i = 0; i < events.length; i += 2) {
      const alg = this.wds.get(events[i] as number);
      // A name made or gone in blobs/ itself: perhaps a blobs/<alg> this watch does not cover.
      if (!alg) return { lost: true };
      names.push({ alg, name: events[i + 1] as string });
    }
    return { lost: false, names };
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    unreachable.unregister(this);
    watchCore()!.watchClose(this.fd);
  }
}
