import { describe, expect, it } from 'vitest';
import { withFlowDefaults } from '../../../src/api/defaults.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import { validateSyncFlow } from '../../../src/api/validate-flow.js';
import { validateSyncJob } from '../../../src/api/validate-job.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { computeClosure, RecordNotFoundError, type ClosureRequest, type ClosureRow, type ClosureSource } from '../../../src/engine/closure.js';
import { closureGraph, scopeEntities, type ClosureGraph } from '../../../src/engine/closure-plan.js';
import { closureFlowSpec } from '../../helpers/closure-flow.js';

/**
 * An in-memory stand-in for the source database (a test double: the same walk runs against real
 * PostgreSQL in test/integration/engine/record-mode.test.ts). Rows are [key..., lookup values...].
 */
function memorySource(
  tables: Record<string, { keys: string[]; rows: Record<string, string | null>[] }>,
  graph: ClosureGraph = closureGraph(withFlowDefaults(closureFlowSpec())),
): ClosureSource & { calls: string[] } {
  const toRow = (entity: string, row: Record<string, string | null>): ClosureRow => ({
    key: tables[entity].keys.map((k) => row[k]!),
    refs: Object.fromEntries(graph.get(entity)!.references.map((r) => [r.column, row[r.column] ?? null])),
  });
  const calls: string[] = [];
  const read = (request: ClosureRequest): ClosureRow[] => {
    if (request.kind === 'keys') {
      calls.push(`${request.entity} by key`);
      const table = tables[request.entity];
      const wanted = new Set(request.keys.map((k) => k.join(',')));
      return table.rows.filter((row) => wanted.has(table.keys.map((k) => row[k]).join(','))).map((row) => toRow(request.entity, row));
    }
    const { link } = request;
    calls.push(`${link.child} by ${link.column}`);
    const wanted = new Set(request.values);
    return tables[link.child].rows.filter((row) => row[link.column] !== null && wanted.has(row[link.column]!)).map((row) => toRow(link.child, row));
  };
  return { calls, read: async (requests) => requests.map(read) };
}

const rows = (keys: string[], columns: string[], data: (string | null)[][]) => ({
  keys,
  rows: data.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i]]))),
});

/** The same association as the integration tests' closure flow, small enough to follow by hand. */
const TABLES = {
  cities: rows(['id'], ['id'], [['1'], ['2'], ['3'], ['4']]),
  levels: rows(['id'], ['id'], [['1'], ['2'], ['3']]),
  firms: rows(['id'], ['id', 'city_id'], [['1', '1'], ['2', '4']]),
  people: rows(['id'], ['id', 'firm_id', 'city_id'], [['10', '1', '2'], ['11', '1', '3'], ['12', '2', null], ['13', null, '4']]),
  interests: rows(['person_id', 'code'], ['person_id', 'code'], [['10', 'golf'], ['10', 'tax'], ['11', 'audit'], ['12', 'golf']]),
  events: rows(['id'], ['id', 'level_id'], [['100', '1'], ['101', '2'], ['102', '1'], ['103', '3']]),
  sessions: rows(['id'], ['id', 'event_id'], [['1000', '100'], ['1001', '100'], ['1002', '101'], ['1003', '102'], ['1004', '103']]),
  related_events: rows(['event_id', 'related_event_id'], ['event_id', 'related_event_id'], [['100', '101'], ['101', '102'], ['102', '103'], ['103', '100']]),
  registrations: rows(['id'], ['id', 'person_id', 'event_id'], [['500', '10', '100'], ['501', '11', '101'], ['502', '12', '102'], ['503', '13', '103']]),
  event_balances: rows(['id'], ['id', 'person_id', 'registration_id'], [['700', '10', '500'], ['701', '11', '501'], ['702', '10', '501'], ['703', '12', '502']]),
  product_balances: rows(['id'], ['id', 'person_id', 'firm_id'], [['800', '10', '1'], ['801', null, '1'], ['802', '12', '2'], ['803', null, '2']]),
};

const sorted = (closure: Map<string, string[][]>) =>
  Object.fromEntries([...closure].map(([entity, keys]) => [entity, keys.map((k) => k.join(',')).sort()] as const).sort(([a], [b]) => a.localeCompare(b)));

describe('closure graph', () => {
  const graph = closureGraph(withFlowDefaults(closureFlowSpec()));

  it('takes required parents from lookup fields and children from related, through the one lookup to the parent', () => {
    expect(graph.get('people')!.references).toEqual([
      { column: 'firm_id', parent: 'firms' },
      { column: 'city_id', parent: 'cities' },
    ]);
    expect(graph.get('people')!.children.map((c) => `${c.child}.${c.column}`)).toEqual([
      'interests.person_id',
      'registrations.person_id',
      'event_balances.person_id',
      'product_balances.person_id',
    ]);
    expect(graph.get('firms')!.children.map((c) => `${c.child}.${c.column}`)).toEqual(['people.firm_id', 'product_balances.firm_id']);
  });

  it('uses via when the child has several lookups to the parent, and keeps includeReferenced', () => {
    expect(graph.get('events')!.children.find((c) => c.child === 'related_events')).toEqual({
      parent: 'events',
      child: 'related_events',
      column: 'event_id',
      includeRelated: true,
      includeReferenced: ['related_event_id'],
    });
  });

  it('refuses an ambiguous or impossible relation, in the engine and in validation', () => {
    const spec = closureFlowSpec();
    const events = spec.entities.find((e) => e.name === 'events')!;
    events.related = [{ entity: 'related_events' }, { entity: 'levels' }];
    expect(() => closureGraph(withFlowDefaults(spec))).toThrow(
      'entity events: related related_events: entity "related_events" has several fields with lookup: events (event_id, related_event_id): choose one with via',
    );
    events.related = [{ entity: 'related_events', via: 'related_event_id', includeReferenced: ['title'] }, { entity: 'levels' }];
    const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'closure' }, spec } as unknown as SyncFlow;
    expect(validateSyncFlow(flow).map((e) => `${e.path}: ${e.message}`)).toEqual([
      'spec.entities[5].related[0].includeReferenced[0]: "title" is not a field of entity "related_events" with a lookup',
      'spec.entities[5].related[1].entity: entity "levels" has no field with lookup: events, so its rows cannot be found for a events record',
    ]);
  });
});

describe('closure walk', () => {
  const graph = closureGraph(withFlowDefaults(closureFlowSpec()));

  it('brings a person, their parents, their children and the children’s own parents (not the parents’ children)', async () => {
    const closure = await computeClosure(graph, memorySource(TABLES), { entity: 'people', key: ['10'] });
    expect(sorted(closure.keys)).toEqual({
      cities: ['1', '2', '3'],
      event_balances: ['700', '702'],
      events: ['100', '101'],
      firms: ['1'],
      interests: ['10,golf', '10,tax'],
      levels: ['1', '2'],
      people: ['10', '11'],
      product_balances: ['800'],
      registrations: ['500', '501'],
    });
  });

  it('reads each entity once per round: a handful of queries, not one per row', async () => {
    const source = memorySource(TABLES);
    const closure = await computeClosure(graph, source, { entity: 'firms', key: ['1'] });
    expect(closure.queries).toBe(source.calls.length);
    expect(closure.rounds).toBe(5);
    // Round by round: the firm; its city and children; the employees' parents and children; ...
    expect(source.calls).toEqual([
      'firms by key',
      'cities by key',
      'people by firm_id',
      'product_balances by firm_id',
      'cities by key',
      'interests by person_id',
      'registrations by person_id',
      'event_balances by person_id',
      'product_balances by person_id',
      'events by key',
      'event_balances by registration_id',
      'levels by key',
    ]);
    expect(sorted(closure.keys).people).toEqual(['10', '11']);
    expect(sorted(closure.keys).product_balances).toEqual(['800', '801']);
  });

  it('follows includeReferenced one level deep only', async () => {
    const closure = await computeClosure(graph, memorySource(TABLES), { entity: 'events', key: ['100'] });
    const keys = sorted(closure.keys);
    expect(keys.events).toEqual(['100', '101', '102']);
    expect(keys.sessions).toEqual(['1000', '1001', '1002']);
    expect(keys.related_events).toEqual(['100,101', '101,102']);
  });

  it('upgrades a row first reached as a required parent once it is reached as a referenced record', async () => {
    // order 1 requires customer 7 (round 2, parent only); its line 50 points at customer 7 again
    // through includeReferenced (round 3), so customer 7's notes must come after all.
    const handmade: ClosureGraph = new Map([
      ['orders', { name: 'orders', references: [{ column: 'customer_id', parent: 'customers' }], children: [
        { parent: 'orders', child: 'lines', column: 'order_id', includeRelated: true, includeReferenced: ['customer_id'] },
      ] }],
      ['lines', { name: 'lines', references: [{ column: 'order_id', parent: 'orders' }, { column: 'customer_id', parent: 'customers' }], children: [] }],
      ['customers', { name: 'customers', references: [], children: [
        { parent: 'customers', child: 'notes', column: 'customer_id', includeRelated: true, includeReferenced: [] },
      ] }],
      ['notes', { name: 'notes', references: [{ column: 'customer_id', parent: 'customers' }], children: [] }],
    ]);
    const tables = {
      orders: rows(['id'], ['id', 'customer_id'], [['1', '7'], ['2', '8']]),
      lines: rows(['id'], ['id', 'order_id', 'customer_id'], [['50', '1', '7']]),
      customers: rows(['id'], ['id'], [['7'], ['8']]),
      notes: rows(['id'], ['id', 'customer_id'], [['90', '7'], ['91', '8']]),
    };
    const closure = await computeClosure(handmade, memorySource(tables, handmade), { entity: 'orders', key: ['1'] });
    expect(sorted(closure.keys)).toEqual({ customers: ['7'], lines: ['50'], notes: ['90'], orders: ['1'] });
  });

  it('records dangling references as missing and fails only for a missing root', async () => {
    const tables = { ...TABLES, firms: rows(['id'], ['id', 'city_id'], [['2', '4']]) };
    const closure = await computeClosure(graph, memorySource(tables), { entity: 'people', key: ['10'] });
    expect(closure.missing.get('firms')).toEqual([['1']]);
    await expect(computeClosure(graph, memorySource(TABLES), { entity: 'people', key: ['99'] })).rejects.toThrow(RecordNotFoundError);
  });
});

describe('scope entities', () => {
  it('adds related entities transitively and leaves out the excluded ones and what hangs off them', () => {
    expect([...scopeEntities(withFlowDefaults(closureFlowSpec()), 'events')]).toEqual(['levels', 'events', 'sessions', 'related_events']);
    expect([...scopeEntities(withFlowDefaults(closureFlowSpec()), 'events_with_registrations')]).toEqual([
      'levels',
      'events',
      'sessions',
      'related_events',
      'registrations',
      'event_balances',
    ]);
  });

  it('keeps to the listed entities without includeRelated, and does not add required parents', () => {
    const spec = closureFlowSpec();
    spec.scopes = [
      { name: 'bare', entities: ['people'], includeRelated: false },
      { name: 'people', entities: ['people'] },
    ];
    expect([...scopeEntities(withFlowDefaults(spec), 'bare')]).toEqual(['people']);
    expect([...scopeEntities(withFlowDefaults(spec), 'people')]).toEqual(['people', 'interests', 'registrations', 'event_balances', 'product_balances']);
  });

  it('rejects an unknown scope naming the known ones', () => {
    expect(() => scopeEntities(withFlowDefaults(closureFlowSpec()), 'nope')).toThrow('unknown scope "nope" (the flow defines: events, events_with_registrations)');
  });
});

describe('scopeMode in the API', () => {
  const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'closure' }, spec: closureFlowSpec() } as unknown as SyncFlow;
  const job = (spec: Partial<SyncJob['spec']>) =>
    ({ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncJob', metadata: { name: 'j' }, spec: { flowRef: { name: 'closure' }, ...spec } }) as SyncJob;

  it('is accepted with mode Scope and refused with any other mode', () => {
    expect(validateSyncJob(job({ mode: 'Scope', scope: 'events', scopeMode: 'Full' }), [flow])).toEqual([]);
    expect(validateSyncJob(job({ mode: 'Full', scopeMode: 'Full' }), [flow])).toEqual([{ path: 'spec.scopeMode', message: 'only used with mode Scope, not Full' }]);
  });

  it('is refused on a schedule that is not a Scope schedule', () => {
    const withSchedules = structuredClone(flow);
    withSchedules.spec.schedules = [
      { name: 'events', cron: '0 * * * *', mode: 'Scope', scope: 'events', scopeMode: 'Full' },
      { name: 'nightly', cron: '0 2 * * *', mode: 'Full', scopeMode: 'Full' },
    ];
    expect(validateSyncFlow(withSchedules).map((e) => `${e.path}: ${e.message}`)).toEqual([
      'spec.schedules[1].scopeMode: scopeMode is only used with mode Scope, not Full',
    ]);
  });
});
