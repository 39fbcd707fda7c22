/**
 * `list` with its items from `from` to `to` replaced by `inserted`, and `moved` applied to each
 * item after them (entries whose position shifted): one array, filled once. Slices joined by
 * concat or spread copied a list two or three times; at 100,000 entries a refresh made 10 MiB of
 * such copies, and the collections they brought on cost more than the change.
 */
export function spliced<T>(list: readonly T[], from: number, to: number, inserted: readonly T[], moved?: (item: T) => T): T[] {
  const out = new Array<T>(list.length - (to - from) + inserted.length);
  let k = 0;
  for (let i = 0; i < from; i++) out[k++] = list[i]!;
  for (const item of inserted) out[k++] = item;
  if (moved) for (let i = to; i < list.length; i++) out[k++] = moved(list[i]!);
  else for (let i = to; i < list.length; i++) out[k++] = list[i]!;
  return out;
}
