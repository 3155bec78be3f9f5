import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type pg from 'pg';
import { currentHorizon, MAX_WINDOW } from '../store/change-reads.js';
import { HttpError, statusBody } from './http-error.js';
import { GROUP_VERSION } from './objects.js';
import type { PairAccess, ServedObject, ServedResource } from './resources.js';
import { BadRequest } from './selectors.js';
import type { IncludeObject } from './table.js';

export interface WatchRequest {
  pool: pg.Pool;
  resource: ServedResource;
  namespace?: string;
  filters: Record<string, string>;
  access: PairAccess;
  /** `?resourceVersion=`: empty or "0" starts with an ADDED event per current object, as kube does. */
  resourceVersion: string | null;
  timeoutSeconds: number;
  bookmarks: boolean;
  /** Events carry one-row Tables (what `kubectl get -w` asks for) instead of objects. */
  table?: { includeObject: IncludeObject };
  now: () => Date;
  pollMs: number;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A watch stops after this long unless the client asks for less (kube's default request timeout). */
export const DEFAULT_WATCH_SECONDS = 1800;
const BOOKMARK_EVERY_MS = 10_000;
const LIST_PAGE = 1000;

export function watchTimeout(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_WATCH_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new BadRequest(`invalid timeoutSeconds "${raw}"`);
  return n === 0 ? DEFAULT_WATCH_SECONDS : Math.min(n, DEFAULT_WATCH_SECONDS);
}

function startingPoint(raw: string | null): number | undefined {
  if (raw === null || raw === '' || raw === '0') return undefined;
  if (!/^\d{1,18}$/.test(raw)) throw new BadRequest(`invalid resourceVersion "${raw}"`);
  return Number(raw);
}

/**
 * Streams watch events: the state DB is polled for rows written since the last horizon
 * (store/change-reads.ts), each change matched against the request's filters, and written as one
 * JSON event per line. Every event's object carries the horizon it was read at as its
 * resourceVersion, so a client resumes without losing or replaying changes (an unchanged object
 * rewritten by a run comes again as MODIFIED).
 */
export async function serveWatch(res: ServerResponse, w: WatchRequest): Promise<void> {
  const start = startingPoint(w.resourceVersion);
  const horizon = await currentHorizon(w.pool);
  if (start !== undefined && horizon - start > MAX_WINDOW) {
    throw new HttpError(410, 'Expired', `too old resource version: ${start} (${horizon})`);
  }
  const deadline = Date.now() + w.timeoutSeconds * 1000;
  let open = true;
  res.on('close', () => {
    open = false;
  });
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'transfer-encoding': 'chunked' });
  res.flushHeaders();

  let firstTable = true;
  const write = async (line: unknown) => {
    if (!open) return;
    if (!res.write(JSON.stringify(line) + '\n')) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  const emit = (type: EventType, entry: ServedObject, rv: number) => {
    entry.object.metadata.resourceVersion = String(rv);
    const object = w.table ? entry.table({ includeObject: w.table.includeObject, now: w.now(), resourceVersion: String(rv), noColumns: !firstTable }) : entry.object;
    firstTable = false;
    return write({ type, object });
  };
  const matches = (entry: ServedObject) => Object.entries(w.filters).every(([name, value]) => entry.filterValues[name] === value);

  // Objects the client holds, when a filter is on a value that changes: an object leaving the
  // selection is reported DELETED (as kube's watch cache does), one entering it ADDED.
  const tracking = w.resource.mutableFilters.some((f) => f in w.filters);
  const held = new Set<string>();
  const key = (entry: ServedObject) => `${entry.object.metadata.namespace}/${entry.object.metadata.name}`;

  let since = start ?? horizon;
  if (start === undefined || tracking) {
    for await (const entry of listAll(w)) {
      held.add(key(entry));
      if (start === undefined) await emit('ADDED', entry, horizon);
    }
  }

  let firstWindow = true;
  let lastBookmark = Date.now();
  try {
    while (open && Date.now() < deadline) {
      const changes = await w.resource.changes(w.pool, { ...(w.namespace !== undefined ? { namespace: w.namespace } : {}), filters: w.filters, since, access: w.access });
      let sent = false;
      for (const entry of changes.deleted) {
        if (tracking ? !held.delete(key(entry)) : !matches(entry)) continue;
        await emit('DELETED', entry, changes.horizon);
        sent = true;
      }
      for (const entry of changes.changed) {
        const had = held.has(key(entry));
        if (matches(entry)) {
          held.add(key(entry));
          await emit(tracking && !had ? 'ADDED' : 'MODIFIED', entry, changes.horizon);
          sent = true;
        } else if (tracking && (had || (firstWindow && start !== undefined))) {
          // Left the selection (in the first window of a resumed watch the client may hold it).
          held.delete(key(entry));
          await emit('DELETED', entry, changes.horizon);
          sent = true;
        }
      }
      firstWindow = false;
      since = changes.horizon;
      if (w.bookmarks && !sent && Date.now() - lastBookmark >= BOOKMARK_EVERY_MS) {
        await write(bookmark(w.resource, since));
        lastBookmark = Date.now();
      }
      await sleep(Math.min(w.pollMs, Math.max(0, deadline - Date.now())), () => !open);
    }
    if (w.bookmarks) await write(bookmark(w.resource, since));
  } catch (error) {
    // Headers are sent: kube reports a failed watch as an ERROR event, then ends the stream.
    await write({ type: 'ERROR', object: statusBody(new HttpError(500, 'InternalError', 'watch failed: see the data API server log')) });
    res.end();
    throw error;
  }
  res.end();
}

async function* listAll(w: WatchRequest): AsyncGenerator<ServedObject> {
  let after: unknown;
  do {
    const page = await w.resource.list(w.pool, { ...(w.namespace !== undefined ? { namespace: w.namespace } : {}), filters: w.filters, limit: LIST_PAGE, after, access: w.access });
    yield* page.items;
    after = page.next;
  } while (after !== undefined);
}

function bookmark(resource: ServedResource, rv: number) {
  return { type: 'BOOKMARK', object: { kind: resource.kind, apiVersion: GROUP_VERSION, metadata: { resourceVersion: String(rv) } } };
}

/** Waits `ms`, checking every 100 ms whether the client went away. */
async function sleep(ms: number, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop()) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
}
