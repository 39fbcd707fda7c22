import type { IncomingMessage, ServerResponse } from 'node:http';
import type { View } from '../view/view.js';
import { sendBody, sendJson } from './send-json.js';
import { REVALIDATE } from './send-representation.js';

interface ListingEntry {
  name: string;
  type: 'dir' | 'file';
  size?: number;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Whether the client asked for a page rather than data (browsers send text/html first). */
function wantsHtml(req: IncomingMessage): boolean {
  return /(^|,)\s*text\/html/i.test(req.headers.accept ?? '');
}

/**
 * A directory of the tree: JSON `{path, entries: [{name, type, size}]}` for programs, or a plain
 * HTML list of links for a browser. Names are tree names (already percent-encoded by the path
 * mapping, e.g. `localhost%3A5000`), so links encode them once more for the URL.
 */
export async function sendListing(req: IncomingMessage, res: ServerResponse, view: View, path: string, names: string[]): Promise<void> {
  const entries: ListingEntry[] = [];
  for (const name of names) {
    const node = await view.lookup(path === '' ? name : `${path}/${name}`);
    if (!node) continue;
    entries.push(node.type === 'dir' ? { name, type: 'dir' } : { name, type: 'file', size: node.size });
  }
  const headers = { 'Cache-Control': REVALIDATE, Vary: 'Accept' };
  if (wantsHtml(req)) {
    const base = '/layouts/' + (path === '' ? '' : path.split('/').map(encodeURIComponent).join('/') + '/');
    const items = entries.map((e) => {
      const shown = escapeHtml(e.name) + (e.type === 'dir' ? '/' : '');
      const href = escapeHtml(base + encodeURIComponent(e.name) + (e.type === 'dir' ? '/' : ''));
      return `<li><a href="${href}">${shown}</a>${e.size === undefined ? '' : ` ${e.size}`}</li>`;
    });
    const title = escapeHtml('/' + path);
    const body = `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>\n<ul>\n${items.join('\n')}\n</ul></body></html>\n`;
    sendBody(req, res, body, 'text/html; charset=utf-8', headers);
  } else {
    sendJson(req, res, { path, entries }, headers);
  }
}
