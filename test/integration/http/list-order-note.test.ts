import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPageServer } from '../../../bench/page-server.js';
import type { HttpResource } from '../../../src/api/http.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { credentialsText } from '../../../src/connectors/http/client-config.js';
import { unstableListNotes } from '../../../src/connectors/http/list-order.js';
import { runSync } from '../../../src/connectors/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

/**
 * A hand-written list paged by position with no sort parameter can list a record twice and miss
 * another while records change (a Full may then take the missed one for gone): the run's report says
 * so, naming the entity and the field to set. The API is the bench's page server (a real HTTP server
 * listing records the way WordPress does); the profile's resources and a sorted list get no note.
 */
const logger = createLogger({ level: 'silent', pretty: false });
let server: Awaited<ReturnType<typeof startPageServer>>;
let targetUrl: string;
let stateUrl: string;

const LIST: HttpResource = {
  list: { path: '/wp/v2/ferry_event', pagination: { style: 'PageNumber', pageSize: 2, totalPagesHeader: 'X-WP-TotalPages' } },
  fields: [
    { name: 'id', pointer: '/id', type: 'integer', readOnly: true },
    { name: 'code', pointer: '/meta/event_code' },
  ],
};

function spec(resource: HttpResource, profile = false): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { http: { baseUrl: server.baseUrl, ...(profile ? { profile: 'wordpress' } : {}) } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    entities: [
      {
        name: 'events',
        source: { table: 'ferry_event', keys: ['id'], resource },
        target: { table: 'events', keys: ['id'] },
        fields: [
          { source: 'id', target: 'id' },
          { source: 'code', target: 'code' },
        ],
      },
    ],
  } as SyncFlowSpec;
}

beforeAll(async () => {
  server = await startPageServer(5);
  [targetUrl, stateUrl] = await Promise.all([freshDatabase('list_order_dst'), freshDatabase('list_order_state')]);
  await withClient(targetUrl, (c) => c.query('CREATE TABLE events (id bigint PRIMARY KEY, code text)'));
}, 60_000);

afterAll(() => server?.close());

describe('an http list paged by position without a sort parameter', () => {
  it('is read, and the report names the entity and the field to set', async () => {
    const report = await runSync({ flowId: 'test/list-order', spec: spec(LIST), mode: 'Full', sourceUrl: credentialsText({}), targetUrl, stateUrl, logger });
    expect(report.status, report.error).toBe('Succeeded');
    expect(report.totals.created).toBe(5);
    expect(report.notes).toEqual([expect.stringMatching(/^entity events: .*PageNumber.*no sort parameter.*set spec\.entities\[0\]\.source\.resource\.sort to a stable order/)]);
  });

  it('gets no note once sorted (resource.sort or an ordering list parameter), or when a profile gives the order', async () => {
    const sorted = await runSync({ flowId: 'test/list-order', spec: spec({ ...LIST, sort: [{ name: 'orderby', value: 'id' }] }), mode: 'Full', sourceUrl: credentialsText({}), targetUrl, stateUrl, logger });
    expect(sorted.status, sorted.error).toBe('Succeeded');
    expect(sorted.notes ?? []).toEqual([]);
    expect(unstableListNotes(spec({ ...LIST, list: { ...LIST.list!, query: [{ name: 'order_by', value: 'id' }] } }))).toEqual([]);
    expect(unstableListNotes(spec({ profile: 'ferry_event' }, true))).toEqual([]);
    // Pages the server hands out by a token or a next link are its to keep consistent.
    expect(unstableListNotes(spec({ ...LIST, list: { ...LIST.list!, pagination: { style: 'Cursor', cursorPointer: '/next' } } }))).toEqual([]);
    expect(unstableListNotes(spec({ ...LIST, list: { ...LIST.list!, pagination: { style: 'OffsetLimit' } } }))).toHaveLength(1);
  });
});
