import { withFlowDefaults } from '../../../../src/api/defaults.js';
import type { Entity } from '../../../../src/api/entity.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { httpConnector } from '../../../../src/connectors/http/index.js';
import type { Connector, Session } from '../../../../src/engine/connector.js';
import { planFlow, type EntityPlan } from '../../../../src/engine/plan.js';
import { startFaultProxy, type FaultProxy } from '../../../helpers/fault-proxy.js';
import { EVENT_RESOURCE, extraEventMetaPlugin, wordpressCredentials, wordpressSystem, wordpressWrite } from '../../../helpers/wordpress-flows.js';
import { EVENT_POST_TYPE, startWordPress, type RunningWordPress } from '../../../helpers/wordpress-server.js';
import { sessionsOf } from './setup.js';

export interface HttpFixture {
  wp: RunningWordPress;
  /** The tests' FAULT INJECTOR in front of WordPress; here it only counts requests. */
  proxy: FaultProxy;
  spec: SyncFlowSpec;
  connector: Connector;
  open(): Promise<Session>;
  plan(entity: Entity): Promise<EntityPlan>;
  /** Creates a ferry_event post through the REST API, as a website editor would; returns its id. */
  post(fields: { title: string; status?: string; meta?: Record<string, unknown> }): Promise<string>;
  /** Write requests the connector sent since the last `proxy.reset()`. */
  writes(): number;
  close(): Promise<void>;
}

/** The ferry_event resource with its registered meta, on both sides of a flow (source and target are the same site). */
export function wordpressEntity(extra: Partial<Entity> = {}): Entity {
  return {
    name: 'items',
    source: { table: EVENT_POST_TYPE, keys: ['id'], updatedAt: 'event_start', resource: EVENT_RESOURCE },
    target: { table: EVENT_POST_TYPE, keys: ['id'], resource: EVENT_RESOURCE },
    match: [{ source: 'event_code', target: 'event_code' }],
    fields: [
      { source: 'title', target: 'title' },
      { source: 'event_code', target: 'event_code' },
      { source: 'capacity', target: 'capacity' },
    ],
    ...extra,
  } as unknown as Entity;
}

/**
 * The contract suite's http counterpart of a SQL fixture: a real WordPress (one per test file,
 * started in beforeAll, ~2 s) whose ferry_event posts are a case's records, reached through the
 * tests' fault injector so a case can count the requests. `extraPlugin` is more PHP for the
 * site's must-use plugin (more registered meta).
 */
export async function initHttpContract(entity: Entity = wordpressEntity(), extraPlugin = ''): Promise<HttpFixture> {
  const wp = await startWordPress({ extraPlugin: `${extraEventMetaPlugin()}\n${extraPlugin}` });
  const proxy = await startFaultProxy(wp.siteUrl);
  const spec = { direction: 'OneWay', source: wordpressSystem(proxy.origin), target: wordpressSystem(proxy.origin), entities: [entity] } as unknown as SyncFlowSpec;
  const connector = httpConnector(spec, 'source', wordpressCredentials(wp), 'the contract API');
  const { open, closeAll } = sessionsOf(connector);
  return {
    wp,
    proxy,
    spec,
    connector,
    open,
    async plan(e) {
      const catalog = await (await open()).readCatalog('', [e.source.table, e.target.table]);
      return planFlow(withFlowDefaults({ ...spec, entities: [e] }), (_side, table) => catalog.get(table)).entities[0];
    },
    async post(fields) {
      return String((await wordpressWrite(wp, 'POST', `/wp/v2/${EVENT_POST_TYPE}`, { status: 'publish', ...fields })).id);
    },
    writes: () => proxy.requests.filter((r) => r.method !== 'GET').length,
    async close() {
      await closeAll();
      await proxy.close();
      await wp.close();
    },
  };
}
