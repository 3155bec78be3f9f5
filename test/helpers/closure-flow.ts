import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import { KeyCodec } from '../../src/engine/keys.js';
import { freshDatabase, withClient } from './databases.js';

/**
 * A hand-checkable association for Record and Scope runs: lookups (cities, levels), firms with
 * their employees and firm-only invoices, people with interests, registrations, event balances and
 * invoices, events with sessions, registrations and links to related events.
 */
const TABLES: { name: string; columns: string; key?: string }[] = [
  { name: 'cities', columns: 'id bigint, name text NOT NULL' },
  { name: 'levels', columns: 'id bigint, name text NOT NULL' },
  { name: 'firms', columns: 'id bigint, name text NOT NULL, city_id bigint' },
  { name: 'people', columns: 'id bigint, name text NOT NULL, firm_id bigint, city_id bigint' },
  { name: 'interests', columns: 'person_id bigint NOT NULL, code text NOT NULL', key: 'person_id, code' },
  { name: 'events', columns: 'id bigint, title text NOT NULL, level_id bigint' },
  { name: 'sessions', columns: 'id bigint, event_id bigint NOT NULL, title text NOT NULL' },
  { name: 'related_events', columns: 'event_id bigint NOT NULL, related_event_id bigint NOT NULL', key: 'event_id, related_event_id' },
  { name: 'registrations', columns: 'id bigint, person_id bigint NOT NULL, event_id bigint NOT NULL' },
  { name: 'event_balances', columns: 'id bigint, person_id bigint NOT NULL, registration_id bigint NOT NULL, amount numeric NOT NULL' },
  { name: 'product_balances', columns: 'id bigint, person_id bigint, firm_id bigint, amount numeric NOT NULL' },
];

export const CLOSURE_SOURCE_SQL = TABLES.map(
  (t) => `CREATE TABLE ${t.name} (${t.columns}, updated_at timestamptz NOT NULL DEFAULT '2026-01-01 10:00:00+00', PRIMARY KEY (${t.key ?? 'id'}));`,
).join('\n');

/** The website: its own ids and real foreign keys to them. */
export const CLOSURE_TARGET_SQL = `
CREATE TABLE cities (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE levels (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE firms (id bigserial PRIMARY KEY, name text NOT NULL, city_id bigint REFERENCES cities, archived boolean NOT NULL DEFAULT false);
CREATE TABLE people (id bigserial PRIMARY KEY, name text NOT NULL, firm_id bigint REFERENCES firms, city_id bigint REFERENCES cities, archived boolean NOT NULL DEFAULT false);
CREATE TABLE interests (id bigserial PRIMARY KEY, person_id bigint NOT NULL REFERENCES people, code text NOT NULL);
CREATE TABLE events (id bigserial PRIMARY KEY, title text NOT NULL, level_id bigint REFERENCES levels, archived boolean NOT NULL DEFAULT false);
CREATE TABLE sessions (id bigserial PRIMARY KEY, event_id bigint NOT NULL REFERENCES events, title text NOT NULL);
CREATE TABLE related_events (id bigserial PRIMARY KEY, event_id bigint NOT NULL REFERENCES events, related_event_id bigint NOT NULL REFERENCES events);
CREATE TABLE registrations (id bigserial PRIMARY KEY, person_id bigint NOT NULL REFERENCES people, event_id bigint NOT NULL REFERENCES events);
CREATE TABLE event_balances (id bigserial PRIMARY KEY, person_id bigint NOT NULL REFERENCES people, registration_id bigint NOT NULL REFERENCES registrations, amount numeric NOT NULL);
CREATE TABLE product_balances (id bigserial PRIMARY KEY, person_id bigint REFERENCES people, firm_id bigint REFERENCES firms, amount numeric NOT NULL);
`;

/**
 * Ann (10) and Bob (11) work at Acme (1), Cy (12) at Globex (2), Di (13) nowhere. Ann pays Bob's
 * registration (event balance 702), so a Record run for Ann needs registration 501 and Bob as
 * required parents. Invoices 801 and 803 belong to a firm only.
 */
export const CLOSURE_DATA_SQL = `
INSERT INTO cities (id, name) VALUES (1, 'Paris'), (2, 'Oslo'), (3, 'Rome'), (4, 'Lima');
INSERT INTO levels (id, name) VALUES (1, 'Basic'), (2, 'Advanced'), (3, 'Expert');
INSERT INTO firms (id, name, city_id) VALUES (1, 'Acme', 1), (2, 'Globex', 4);
INSERT INTO people (id, name, firm_id, city_id) VALUES (10, 'Ann', 1, 2), (11, 'Bob', 1, 3), (12, 'Cy', 2, NULL), (13, 'Di', NULL, 4);
INSERT INTO interests (person_id, code) VALUES (10, 'golf'), (10, 'tax'), (11, 'audit'), (12, 'golf');
INSERT INTO events (id, title, level_id) VALUES (100, 'Summit', 1), (101, 'Workshop', 2), (102, 'Gala', 1), (103, 'Expo', 3);
INSERT INTO sessions (id, event_id, title) VALUES (1000, 100, 'Opening'), (1001, 100, 'Keynote'), (1002, 101, 'Lab'), (1003, 102, 'Dinner'), (1004, 103, 'Hall');
INSERT INTO related_events (event_id, related_event_id) VALUES (100, 101), (101, 102), (102, 103), (103, 100);
INSERT INTO registrations (id, person_id, event_id) VALUES (500, 10, 100), (501, 11, 101), (502, 12, 102), (503, 13, 103);
INSERT INTO event_balances (id, person_id, registration_id, amount) VALUES (700, 10, 500, 50), (701, 11, 501, 60), (702, 10, 501, 70), (703, 12, 502, 80);
INSERT INTO product_balances (id, person_id, firm_id, amount) VALUES (800, 10, 1, 5), (801, NULL, 1, 6), (802, 12, 2, 7), (803, NULL, 2, 8);
`;

type EntitySpec = SyncFlowSpec['entities'][number];

function entity(name: string, fields: EntitySpec['fields'], extra: Partial<EntitySpec> = {}): EntitySpec {
  const composite = name === 'interests' ? ['person_id', 'code'] : name === 'related_events' ? ['event_id', 'related_event_id'] : ['id'];
  const archived = ['firms', 'people', 'events'].includes(name);
  const requires = [...new Set(fields.flatMap((f) => (f.lookup ? [f.lookup] : [])))];
  return {
    name,
    source: { table: name, keys: composite, updatedAt: 'updated_at' },
    target: { table: name, keys: ['id'], ...(archived ? { archive: { column: 'archived' } } : {}) },
    fields,
    ...(requires.length > 0 ? { requires } : {}),
    actions: ['link', 'createInTarget', 'updateTarget', archived ? 'archiveInTarget' : 'deleteInTarget'],
    ...extra,
  } as EntitySpec;
}

export function closureFlowSpec(): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { postgres: { secretRef: { name: 'src' } } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    batchSize: 2,
    entities: [
      entity('cities', [{ source: 'name', target: 'name' }]),
      entity('levels', [{ source: 'name', target: 'name' }]),
      entity('firms', [{ source: 'name', target: 'name' }, { source: 'city_id', target: 'city_id', lookup: 'cities' }], {
        related: [{ entity: 'people', includeRelated: true }, { entity: 'product_balances' }],
      }),
      entity(
        'people',
        [
          { source: 'name', target: 'name' },
          { source: 'firm_id', target: 'firm_id', lookup: 'firms' },
          { source: 'city_id', target: 'city_id', lookup: 'cities' },
        ],
        { related: [{ entity: 'interests' }, { entity: 'registrations' }, { entity: 'event_balances' }, { entity: 'product_balances' }] },
      ),
      entity('interests', [{ source: 'person_id', target: 'person_id', lookup: 'people' }, { source: 'code', target: 'code' }]),
      entity('events', [{ source: 'title', target: 'title' }, { source: 'level_id', target: 'level_id', lookup: 'levels' }], {
        related: [
          { entity: 'sessions' },
          { entity: 'related_events', via: 'event_id', includeReferenced: ['related_event_id'] },
          { entity: 'registrations' },
        ],
      }),
      entity('sessions', [{ source: 'event_id', target: 'event_id', lookup: 'events' }, { source: 'title', target: 'title' }]),
      entity('related_events', [
        { source: 'event_id', target: 'event_id', lookup: 'events' },
        { source: 'related_event_id', target: 'related_event_id', lookup: 'events' },
      ]),
      entity(
        'registrations',
        [
          { source: 'person_id', target: 'person_id', lookup: 'people' },
          { source: 'event_id', target: 'event_id', lookup: 'events' },
        ],
        { related: [{ entity: 'event_balances' }] },
      ),
      entity('event_balances', [
        { source: 'person_id', target: 'person_id', lookup: 'people' },
        { source: 'registration_id', target: 'registration_id', lookup: 'registrations' },
        { source: 'amount', target: 'amount' },
      ]),
      entity('product_balances', [
        { source: 'person_id', target: 'person_id', lookup: 'people' },
        { source: 'firm_id', target: 'firm_id', lookup: 'firms' },
        { source: 'amount', target: 'amount' },
      ]),
    ],
    scopes: [
      { name: 'events', entities: ['levels', 'events'], includeRelated: true, exclude: ['registrations'] },
      { name: 'events_with_registrations', entities: ['levels', 'events'] },
    ],
  } as SyncFlowSpec;
}

export async function closureDatabases(): Promise<{ sourceUrl: string; targetUrl: string; stateUrl: string }> {
  const [sourceUrl, targetUrl, stateUrl] = await Promise.all([freshDatabase('csrc'), freshDatabase('cdst'), freshDatabase('cstate')]);
  await withClient(sourceUrl, async (c) => {
    await c.query(CLOSURE_SOURCE_SQL);
    await c.query(CLOSURE_DATA_SQL);
  });
  await withClient(targetUrl, (c) => c.query(CLOSURE_TARGET_SQL));
  return { sourceUrl, targetUrl, stateUrl };
}

/** Source keys with a pair, per entity, as plain key text (`10`, `10,golf`), sorted: what a run has touched. */
export async function pairedSourceKeys(stateUrl: string, flowId: string): Promise<Record<string, string[]>> {
  const rows = await withClient(stateUrl, async (c) => {
    const exists = await c.query(`SELECT to_regclass('ferry.pairs') IS NOT NULL AS ok`);
    if (!exists.rows[0].ok) return [];
    return (await c.query(`SELECT entity, source_key FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = $1`, [flowId])).rows;
  });
  const out: Record<string, string[]> = {};
  for (const row of rows) {
    const composite = row.entity === 'interests' ? ['integer', 'text'] : row.entity === 'related_events' ? ['integer', 'integer'] : ['integer'];
    const plain = new KeyCodec(composite as ('integer' | 'text')[]).decode(row.source_key).join(',');
    (out[row.entity] ??= []).push(plain);
  }
  for (const list of Object.values(out)) list.sort();
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
