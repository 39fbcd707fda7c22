#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isLayoutfsError } from '../errors.js';
import { escapeControls } from './format.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs (or for help): loading them all
 * costs as much start-up as node's own (scripts/bench/README.md).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  ls: async () => (await import('./commands/ls.js')).registerLs,
  init: async () => (await import('./commands/init.js')).registerInit,
  import: async () => (await import('./commands/import.js')).registerImport,
  tag: async () => (await import('./commands/tag.js')).registerTag,
  rm: async () => (await import('./commands/rm.js')).registerRm,
  gc: async () => (await import('./commands/gc.js')).registerGc,
  fsck: async () => (await import('./commands/fsck.js')).registerFsck,
  du: async () => (await import('./commands/du.js')).registerDu,
  export: async () => (await import('./commands/export.js')).registerExport,
  materialize: async () => (await import('./commands/materialize.js')).registerMaterialize,
  mount: async () => (await import('./commands/mount.js')).registerMount,
  serve: async () => (await import('./commands/serve.js')).registerServe,
};

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
const named = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
for (const name of named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS)) (await COMMANDS[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (isLayoutfsError(err)) {
    process.stderr.write(`layoutfs: ${escapeControls(err.message, true)}\n`);
    process.exitCode = EXIT_FAILED;
  } else if (typeof (err as NodeJS.ErrnoException | null)?.code === 'string') {
    // A system error (ENOSPC, EIO, ...): its message names the call and the file.
    process.stderr.write(`layoutfs: ${escapeControls((err as Error).message, true)}\n`);
    process.exitCode = EXIT_FAILED;
  } else {
    process.stderr.write(`layoutfs: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT_FAILED;
  }
}
