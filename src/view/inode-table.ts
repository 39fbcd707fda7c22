import { LayoutfsError } from '../errors.js';

export const ROOT_INO = 1;
const MAX_INO = 0xffff_ffff;

/**
 * Inode numbers from a table, never from a hash: fuse-native passes st_ino as uint32, where hashes
 * collide, and hard-link semantics need one number per blob in every view. Numbers are handed out
 * on first use and stay for the life of the process, across refreshes.
 */
export class InodeTable {
  private readonly numbers = new Map<string, number>();
  private next = ROOT_INO + 1;

  /** The number for `key` (`b:<digest>` for blobs, `d:`/`f:` + path for directories and files). */
  get(key: string): number {
    let ino = this.numbers.get(key);
    if (ino === undefined) {
      if (this.next > MAX_INO) throw new LayoutfsError('RESOURCE_EXHAUSTED', 'out of 32-bit inode numbers; restart the mount');
      ino = this.next++;
      this.numbers.set(key, ino);
    }
    return ino;
  }
}
