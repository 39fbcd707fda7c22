import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * The handle bit of native/fuse-native-direct-read.patch: fuse-native's FUSE threads pread a
 * handle that has it (the rest is a descriptor) themselves, so blob reads never wait for the
 * JavaScript thread, and a slow disk blocks only the FUSE thread that asked. 0 when the stock
 * binding is loaded (it could not be built at install) or LAYOUTFS_FUSE_JS_READS=1 asks for the
 * JavaScript read path: blobs are then read by the read operation.
 */
export const DIRECT_FD_FLAG: number = process.env.LAYOUTFS_FUSE_JS_READS === '1' ? 0 : bindingFlag();

function bindingFlag(): number {
  const fuseIndex = createRequire(import.meta.url).resolve('fuse-native');
  // The same file fuse-native loads, so the same module instance.
  const binding = createRequire(fuseIndex)('node-gyp-build')(dirname(fuseIndex)) as { direct_fd_flag?: number };
  return binding.direct_fd_flag ?? 0;
}

