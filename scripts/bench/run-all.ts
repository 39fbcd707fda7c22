/** `npm run bench`: every benchmark in this folder, one after the other. */
await import('./ls-large-store.js');
await import('./fuse-read.js');
await import('./server-blob-throughput.js');
await import('./store-writes.js');
await import('./export.js');
await import('./scale.js');
