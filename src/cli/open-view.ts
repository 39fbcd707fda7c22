import { openStore } from '../store/store-reader.js';
import { View } from '../view/view.js';

/**
 * The view of the store at `dir`: every command that reads the store goes through here.
 * `syncReads` for one-shot commands that serve nothing meanwhile (ls, du); `cacheBytes` bounds
 * the metadata cache (`--cache-size`).
 */
export async function openView(dir: string, options: { syncReads?: boolean; cacheBytes?: number } = {}): Promise<View> {
  return View.open(await openStore(dir, { syncReads: options.syncReads }), { cacheBytes: options.cacheBytes });
}
