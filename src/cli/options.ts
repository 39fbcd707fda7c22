import { InvalidArgumentError, Option } from 'commander';
import { parsePlatformSpec } from '../oci/platform.js';
import { isConformingRepository } from '../oci/reference.js';
import { parseListen, type ListenAddress } from '../server/listen-address.js';
import { DEFAULT_BARE_REPOSITORY } from '../server/registry/registry-names.js';

// Every parser of a command-line option value: each throws commander's InvalidArgumentError, which
// commander reports as `option '--x <v>' argument 'v' is invalid. <message>` (exit 2, bad usage).

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `64M`, `512k`, `1g` or a plain byte count. */
export function parseByteSize(s: string): number {
  const m = /^(\d+)([kmg]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`"${s}" is not a size (examples: 64M, 512k, 1G)`);
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1h`, `30m`, `0s`, `500ms`: a duration in milliseconds. */
export function parseDuration(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`"${s}" is not a duration (examples: 1h, 30m, 0s)`);
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

/** `--uid`, `--gid`: a 32-bit unsigned numeric id. */
export function parseId(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`"${s}" is not a numeric id`);
  return n;
}

/** `--listen` (and mount's `--serve`): HOST:PORT. */
export function parseListenOption(s: string): ListenAddress {
  const address = parseListen(s);
  if (!address) throw new InvalidArgumentError(`"${s}" is not HOST:PORT (examples: 127.0.0.1:5000, [::1]:5000, 0.0.0.0:5000)`);
  return address;
}

/** `--bare-repository`: must be a name registry clients can send. */
export function parseRepositoryOption(s: string): string {
  if (!isConformingRepository(s)) throw new InvalidArgumentError(`"${s}" is not a valid repository name (lowercase components, e.g. ${DEFAULT_BARE_REPOSITORY})`);
  return s;
}

/** `--select NAME` given again and again: every value, in order. */
export function collectRepeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--cache-size`, the same for every command that opens a view (ls, mount, serve). */
export function cacheSizeOption(): Option {
  return new Option('--cache-size <bytes>', 'byte bound of the metadata cache (e.g. 64M)').argParser(parseByteSize);
}

/** `--platform`: os/arch[/variant] (kept as typed; matched the way containerd normalizes it). */
export function parsePlatformOption(s: string): string {
  if (!parsePlatformSpec(s)) throw new InvalidArgumentError(`"${s}" is not a platform (examples: linux/amd64, linux/arm64, linux/arm/v7)`);
  return s;
}
