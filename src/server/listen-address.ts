import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Loopback only unless told otherwise: the server has no authentication. */
export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 5000 };

/** `127.0.0.1:5000`, `[::1]:5000`, `localhost:0`, or a bare port (loopback); undefined when it is none of these. */
export function parseListen(s: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? DEFAULT_LISTEN.host : host, port };
}

/** Whether a bound address only takes connections from this machine. */
export function isLoopback(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  const a = address.toLowerCase();
  return a === '::1' || a.startsWith('::ffff:127.');
}
