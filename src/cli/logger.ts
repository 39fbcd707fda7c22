import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { PrettyStream } from 'pino-pretty';

const require = createRequire(import.meta.url);

/** JSON logs on stderr; readable lines when stderr is a terminal. */
export function createLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    // Loaded only for terminals: pino-pretty is a large part of start-up (scripts/bench/README.md).
    const pretty = require('pino-pretty') as (options: object) => PrettyStream;
    return pino({ level }, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** The logger of a command: `--log-level` when given, else the command's own default. */
export function commandLogger(command: { optsWithGlobals(): { logLevel?: string } }, defaultLevel: string): Logger {
  return createLogger(command.optsWithGlobals().logLevel ?? defaultLevel);
}
