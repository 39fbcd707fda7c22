import { LayoutfsError } from '../errors.js';
import { pathToRef } from '../oci/path-mapping.js';
import type { IndexFile } from '../store/index/index-model.js';
import { viewPathOf } from '../store/index/reference-table.js';
import { ViewEntry, type NamedView } from '../view/view-entry.js';
import { entryIdentity, isViewPath, type MadeViews } from './materialize-state.js';

/** What a run is to do. */
export interface ViewPlan {
  /** Views whose entry is the one their record names: not looked at. */
  unchanged: number;
  /** Views to sync (new, changed, not trusted), each with the identity of its entry. */
  todo: { v: NamedView; identity: string }[];
  /** Recorded view paths no reference has any more: to remove. */
  gone: string[];
  /** The records that stay: those of unchanged views, and of todo and gone ones until the run changes them. */
  made: MadeViews;
}

/**
 * The views of `index` (only `names` when given) against the records of earlier runs. A view is
 * unchanged when its entry's identity is a recorded one (the identity covers the name, so the
 * path need not be mapped again): one hash per entry, and a view is built only for the rest, as
 * referenceTable names them (the first valid entry of a name; no view for a name no path can show).
 * With `full`, no record counts. Throws NOT_FOUND for a name in `names` that has no view.
 */
export function planViews(index: Pick<IndexFile, 'file' | 'valid'>, previous: MadeViews, names: readonly string[] | undefined, full: boolean): ViewPlan {
  const madeAt = new Map<string, string>();
  if (!full) for (const [path, identity] of previous) if (identity !== null) madeAt.set(identity, path);
  const wanted = names?.length ? new Set(names) : undefined;
  /** Names with a view. */
  const shown = new Set<string>();
  /** The records that stay, first those found unchanged. */
  const made: MadeViews = new Map();
  const todo: ViewPlan['todo'] = [];
  for (const { name, json, descriptor } of index.valid) {
    if (name === undefined || shown.has(name) || (wanted && !wanted.has(name))) continue;
    const identity = entryIdentity(json);
    const path = madeAt.get(identity);
    if (path !== undefined) {
      shown.add(name);
      made.set(path, identity);
      continue;
    }
    const mapped = viewPathOf(name);
    if ('unmappable' in mapped) continue;
    shown.add(name);
    todo.push({ v: new ViewEntry(mapped.viewPath, name, descriptor) as NamedView, identity });
  }
  for (const name of wanted ?? []) {
    if (!shown.has(name)) throw new LayoutfsError('NOT_FOUND', `no reference named ${JSON.stringify(name)} in the store (see layoutfs ls)`, { path: index.file });
  }
  const unchanged = made.size;

  const gone: string[] = [];
  const synced = new Set(todo.map((t) => t.v.path));
  for (const [path, identity] of previous) {
    if (made.has(path)) continue;
    // Records of views to sync, and with `names` all others, stay as they are until the run changes them.
    if (wanted || synced.has(path)) {
      made.set(path, identity);
      continue;
    }
    const ref = pathToRef(path);
    // A record no entry matched, of a reference that still has a view (a damaged or forged
    // state), is forgotten: a removal never takes a view of the store. So is one of a path the
    // mapping cannot produce: it is not ours to remove.
    if ((ref === undefined || !shown.has(ref)) && isViewPath(path)) {
      gone.push(path);
      made.set(path, identity);
    }
  }
  return { unchanged, todo, gone, made };
}
