import type { Entity } from '../../src/api/entity.js';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import { credentialsText } from '../../src/connectors/http/client-config.js';
import { generateAssociation } from '../../src/demo/index.js';
import { freshDatabase } from './databases.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from './wordpress-server.js';

/** Meta the HTTP connector tests add to ferry_event (EVENT_META has event_start, event_status, capacity). */
export const EXTRA_EVENT_META = { event_code: 'string', event_end: 'string', location: 'string', price: 'number' } as const;

export const extraEventMetaPlugin = () =>
  `add_action('init', function () {\n${Object.entries(EXTRA_EVENT_META)
    .map(([name, type]) => `  register_post_meta('${EVENT_POST_TYPE}', '${name}', ['type' => '${type}', 'single' => true, 'show_in_rest' => true]);`)
    .join('\n')}\n});`;

/** The http system block of a WordPress reached at `origin` (the site itself or the fault injector in front). */
export function wordpressSystem(origin: string, limits: { maxInFlight?: number; retries?: number } = {}) {
  return {
    http: {
      baseUrl: `${origin}/wp-json`,
      profile: 'wordpress' as const,
      auth: { type: 'Basic' as const, secretRef: { name: 'wordpress' } },
      limits: { maxInFlight: limits.maxInFlight ?? 4, retries: limits.retries ?? 4 },
    },
  };
}

/** The Application Password as the connector's credentials (what `ferry run` gathers from the Secret). */
export const wordpressCredentials = (wp: RunningWordPress) => credentialsText({ auth: { username: wp.username, password: wp.applicationPassword } });

/** The ferry_event resource: the profile's post fields plus the registered meta. */
export const EVENT_RESOURCE = {
  profile: EVENT_POST_TYPE,
  fields: [
    // Registered meta read back as '' or 0 when never set: the wordpress profile reads those as null.
    { name: 'event_code', pointer: '/meta/event_code' },
    { name: 'event_start', pointer: '/meta/event_start', type: 'timestamp' as const },
    { name: 'event_end', pointer: '/meta/event_end', type: 'timestamp' as const },
    { name: 'event_status', pointer: '/meta/event_status' },
    { name: 'capacity', pointer: '/meta/capacity', type: 'integer' as const },
    { name: 'location', pointer: '/meta/location' },
    { name: 'price', pointer: '/meta/price', type: 'number' as const },
  ],
};

/** WordPress ferry_event posts -> the PostgreSQL table website_events (post_id = the post's id; other fields keep their names). */
export function wordpressToTable(origin: string, fields: string[], actions?: Entity['actions']): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: wordpressSystem(origin),
    target: { postgres: { secretRef: { name: 'warehouse' } } },
    entities: [
      {
        name: 'events',
        source: { table: EVENT_POST_TYPE, keys: ['id'], updatedAt: 'modified', resource: EVENT_RESOURCE },
        target: { table: 'website_events', keys: ['post_id'] },
        fields: ['id', ...fields].map((name) => ({ source: name, target: name === 'id' ? 'post_id' : name })),
        ...(actions ? { actions } : {}),
      },
    ],
  } as unknown as SyncFlowSpec;
}

/** The association demo's events as WordPress ferry_event posts, linked by the event code. */
export function eventsToWordPress(origin: string, actions?: Entity['actions']): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { postgres: { secretRef: { name: 'association' } } },
    target: wordpressSystem(origin),
    entities: [
      {
        name: 'events',
        source: { table: 'events', keys: ['id'], updatedAt: 'updated_at' },
        target: { table: EVENT_POST_TYPE, keys: ['id'], resource: EVENT_RESOURCE },
        match: [{ source: 'code', target: 'event_code' }],
        fields: [
          { source: 'code', target: 'event_code' },
          { source: 'title', target: 'title' },
          { source: 'description', target: 'content' },
          { source: 'starts_at', target: 'event_start' },
          { source: 'ends_at', target: 'event_end' },
          { source: 'event_status_id', target: 'event_status' },
          { source: 'capacity', target: 'capacity' },
          { source: 'location', target: 'location' },
          { source: 'price', target: 'price' },
        ],
        ...(actions ? { actions } : {}),
      },
    ],
  } as SyncFlowSpec;
}

/** Every record of a WordPress collection (of a post type: all statuses; say `allStatuses` for a custom one), through the REST API directly. */
export async function wordpressRecords(wp: RunningWordPress, base: string, options: { allStatuses?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const auth = `Basic ${Buffer.from(`${wp.username}:${wp.applicationPassword}`).toString('base64')}`;
  const postType = options.allStatuses || base === EVENT_POST_TYPE || base === 'posts' || base === 'pages';
  for (let page = 1; ; page++) {
    const status = postType ? '&status=any' : '';
    const response = await fetch(`${wp.baseUrl}/wp/v2/${base}?context=edit&per_page=100&page=${page}${status}`, { headers: { authorization: auth } });
    if (response.status === 400) break;
    const records = (await response.json()) as Record<string, unknown>[];
    out.push(...records);
    if (records.length < 100) break;
  }
  return out;
}

/** Changes a record through the REST API directly (as a website editor would). */
export async function wordpressWrite(wp: RunningWordPress, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const auth = `Basic ${Buffer.from(`${wp.username}:${wp.applicationPassword}`).toString('base64')}`;
  const response = await fetch(`${wp.baseUrl}${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** A WordPress behind the tests' FAULT INJECTOR, with a fresh source and state database. */
export interface WordPressWorld {
  wp: RunningWordPress;
  proxy: FaultProxy;
  sourceUrl: string;
  stateUrl: string;
  close(): Promise<void>;
}

/**
 * Starts WordPress (ferry_event with the extra meta, plus `extraPlugin`), the fault injector in front
 * of it, and two fresh PostgreSQL databases named `<name>_src` and `<name>_state`; with
 * `association`, the demo association (30 people) in the source.
 */
export async function startWordPressWorld(name: string, options: { association?: boolean; extraPlugin?: string } = {}): Promise<WordPressWorld> {
  const wp = await startWordPress({ extraPlugin: `${extraEventMetaPlugin()}\n${options.extraPlugin ?? ''}` });
  try {
    const proxy = await startFaultProxy(wp.siteUrl);
    const [sourceUrl, stateUrl] = await Promise.all([freshDatabase(`${name}_src`), freshDatabase(`${name}_state`)]);
    if (options.association) await generateAssociation(sourceUrl, { people: 30 });
    return {
      wp,
      proxy,
      sourceUrl,
      stateUrl,
      close: async () => {
        await proxy.close();
        await wp.close();
      },
    };
  } catch (error) {
    await wp.close();
    throw error;
  }
}
