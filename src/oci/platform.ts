import type { Platform } from './descriptor.js';

/**
 * Platforms as containerd matches them (github.com/containerd/platforms Normalize): os and
 * architecture are case-insensitive, architecture aliases are one (`x86_64` = `amd64`,
 * `aarch64` = `arm64`, `i386` = `386`), and a missing variant is the architecture's default
 * (`arm64` = `arm64/v8`, `arm` = `arm/v7`, `amd64` = `amd64/v1`). Pure rules, no I/O.
 */
export interface NormalizedPlatform {
  os: string;
  architecture: string;
  variant: string;
}

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' }, 'x86-64': { architecture: 'amd64' }, aarch64: { architecture: 'arm64' },
  i386: { architecture: '386' }, i686: { architecture: '386' }, armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
};
const DEFAULT_VARIANTS: Record<string, string> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };

export function normalizePlatform(p: { os: string; architecture: string; variant?: string | undefined }): NormalizedPlatform {
  const os = p.os.toLowerCase();
  const arch = p.architecture.toLowerCase();
  const alias = ARCH_ALIASES[arch];
  const architecture = alias?.architecture ?? arch;
  let variant = (p.variant ?? alias?.variant ?? '').toLowerCase();
  if (/^\d+$/.test(variant)) variant = `v${variant}`;
  if (variant === '') variant = DEFAULT_VARIANTS[architecture] ?? '';
  return { os, architecture, variant };
}

/** Whether `have` (an index entry's or a config's platform) is the platform `wanted` asks for. */
export function platformMatches(wanted: NormalizedPlatform, have: { os: string; architecture: string; variant?: string | undefined }): boolean {
  const h = normalizePlatform(have);
  return h.os === wanted.os && h.architecture === wanted.architecture && h.variant === wanted.variant;
}

const PART = /^[A-Za-z0-9_.-]+$/;

/** `os/arch[/variant]` (what `--platform` takes), or undefined when it is not one. */
export function parsePlatformSpec(s: string): NormalizedPlatform | undefined {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || !parts.every((x) => PART.test(x))) return undefined;
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

/** The platform's directory name: `linux-arm64-v8`, `linux-amd64` (a default amd64/v1 is left out). */
export function platformDirName(p: NormalizedPlatform): string {
  return [p.os, p.architecture, p.architecture === 'amd64' && p.variant === 'v1' ? '' : p.variant].filter(Boolean).join('-');
}

/** A usable platform of an index entry (not `unknown/unknown`: attestations). */
export function isRealPlatform(p: Platform | undefined): p is Platform {
  return p !== undefined && p.os !== 'unknown' && p.architecture !== 'unknown';
}
