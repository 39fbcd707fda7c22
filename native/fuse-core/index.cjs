'use strict';
// Loads the native FUSE core (build/Release/layoutfs_fuse.node). When it has
// not been built, exports { available: false, reason } instead of throwing.
const path = require('node:path');

const file = path.join(__dirname, 'build', 'Release', 'layoutfs_fuse.node');
let core;
try {
  core = require(file);
} catch (err) {
  const missing = err && err.code === 'MODULE_NOT_FOUND';
  const reason = missing
    ? 'native FUSE core not built (native/fuse-core/build/Release/layoutfs_fuse.node missing): install a C compiler (cc, make, python3) and run npm rebuild'
    : `native FUSE core failed to load (${String(err && err.message).split('\n')[0]}): install a C compiler (cc, make, python3) and run npm rebuild`;
  module.exports = { available: false, reason };
  return;
}
module.exports = Object.assign(Object.create(null), core, { available: true });
