import { writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';

/**
 * Sets the kernel's readahead for the FUSE mount whose st_dev is `dev` (its own backing device,
 * /sys/class/bdi/0:N): FUSE starts it at 128 KiB and FUSE_INIT can only lower it, so without this
 * a sequential read still arrives in 128 KiB requests however large max_pages is. Writing there
 * needs root; otherwise the mount keeps 128 KiB readahead and says so.
 */
export async function setReadahead(dev: bigint, kib: number, log: Logger): Promise<void> {
  // Linux's dev_t encoding (glibc's gnu_dev_major/minor).
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  const file = `/sys/class/bdi/${major}:${minor}/read_ahead_kb`;
  try {
    await writeFile(file, String(kib));
  } catch (err) {
    log.info({ err, file }, 'could not raise the mount\'s readahead (needs root); sequential reads stay in 128 KiB requests');
  }
}
