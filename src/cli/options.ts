import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `64M`, `512k`, `1g` or a plain byte count. */
export function parseByteSize(s: string): number {
  const m = /^(\d+)([kmg]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`"${s}" is not a size (examples: 64M, 512k, 1G)`);
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}
