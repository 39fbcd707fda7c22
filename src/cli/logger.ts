import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON logs on stderr; readable lines when stderr is a terminal. */
export function createLogger(level: string): Logger {
  if (process.stderr.isTTY) {
    return pino({ level }, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** The logger of a command: `--log-level` when given, else the command's own default. */
export function commandLogger(command: { optsWithGlobals(): { logLevel?: string } }, defaultLevel: string): Logger {
  return createLogger(command.optsWithGlobals().logLevel ?? defaultLevel);
}
