#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isLayoutfsError } from '../errors.js';
import { registerDu } from './commands/du.js';
import { registerExport } from './commands/export.js';
import { registerFsck, registerGc } from './commands/gc.js';
import { registerImport } from './commands/import.js';
import { registerInit } from './commands/init.js';
import { registerLs } from './commands/ls.js';
import { registerMaterialize } from './commands/materialize.js';
import { registerMount } from './commands/mount.js';
import { registerServe } from './commands/serve.js';
import { registerRm, registerTag } from './commands/tag.js';

/** Exit codes: 0 ok, 1 failed, 2 bad usage. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const program = new Command();
program
  .name('layoutfs')
  .description('Show every reference of one shared OCI image layout as its own single-image layout')
  .option('--log-level <level>', 'pino log level: trace, debug, info, warn, error (default: warn for ls, info for long-running commands)')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) });
registerLs(program);
registerInit(program);
registerImport(program);
registerTag(program);
registerRm(program);
registerGc(program);
registerFsck(program);
registerDu(program);
registerExport(program);
registerMaterialize(program);
registerMount(program);
registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (isLayoutfsError(err)) {
    process.stderr.write(`layoutfs: ${err.message}\n`);
    process.exitCode = EXIT_FAILED;
  } else if (typeof (err as NodeJS.ErrnoException)?.code === 'string') {
    // A system error (ENOSPC, EIO, ...): its message names the call and the file.
    process.stderr.write(`layoutfs: ${(err as Error).message}\n`);
    process.exitCode = EXIT_FAILED;
  } else {
    process.stderr.write(`layoutfs: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT_FAILED;
  }
}
