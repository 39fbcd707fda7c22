import type { NameChange } from '../store/index/name-changes.js';

/** `12.3 MB`-style sizes for people (SI units, like `docker images`). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

// C0 controls, DEL and C1 controls (ESC starts terminal escapes; 0x9b is a one-byte CSI).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- as above, newline kept
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from a store (reference names, messages quoting them) made safe for a terminal: every
 * control character is shown as `\xHH` (newlines too, unless `keepNewlines`), so a name cannot
 * move the cursor, recolour or retitle the terminal, or forge a table row.
 */
export function escapeControls(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROLS_BUT_NEWLINE : CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A left-aligned text table; cells have their control characters escaped. */
export function formatTable(header: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map((c) => escapeControls(c)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** `added NAME -> DIGEST`, `unchanged NAME -> DIGEST` or `moved NAME from OLD to DIGEST`: what tag and import did to a name. */
export function formatNameChange(c: NameChange): string {
  return c.action === 'moved' ? `moved ${c.name} from ${c.previous} to ${c.digest}` : `${c.action} ${c.name} -> ${c.digest}`;
}

/** Prints `value` as JSON with --json, else the human lines. */
export function printResult(json: boolean | undefined, value: unknown, human: () => string): void {
  // The newline written on its own: joined to ls's JSON (47 MB at 100,000 references), the whole was copied once more.
  process.stdout.write(json ? JSON.stringify(value, null, 2) : escapeControls(human(), true));
  process.stdout.write('\n');
}
