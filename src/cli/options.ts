import { InvalidArgumentError } from 'commander';

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

/** Prints `value` as JSON with --json, else the human lines. */
export function printResult(json: boolean | undefined, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
}
