import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { installChangeTriggers } from '../../../../src/connectors/postgres/triggers.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { FILES_CAPABILITIES, filesConnector } from '../../../../src/connectors/files/index.js';
import { HTTP_CAPABILITIES, httpConnector } from '../../../../src/connectors/http/index.js';
import type { ChangeFeed, Connector, ConnectorCapabilities } from '../../../../src/engine/connector.js';
import { watchLoop } from '../../../../src/engine/watch-loop.js';
import { CONTRACT_DDL } from './tables.js';
import { CONNECTORS, initContract, isSql, type ConnectorKind, type ContractFixture } from './setup.js';
import { wordpressEntity } from './http-fixture.js';

/**
 * `--watch` learns of changes through a connector's change feed when it has one (capability
 * `changeFeed: 'notify'`) and polls the cursor otherwise; a connector must declare what it does.
 */
const fixtures: ContractFixture[] = [];
const feeds: ChangeFeed[] = [];
afterAll(async () => {
  await Promise.all(feeds.map((f) => f.close()));
  await Promise.all(fixtures.map((f) => f.close()));
});

/** An API's or a files source's connector, built from its spec alone (it reaches nothing before a session opens). */
function offlineConnector(kind: Exclude<ConnectorKind, 'postgres' | 'mysql'>): { connector: Connector; capabilities: ConnectorCapabilities } {
  if (kind === 'http') {
    const http = { http: { baseUrl: 'http://127.0.0.1:9/wp-json', profile: 'wordpress' } };
    const spec = { direction: 'OneWay', source: http, target: http, entities: [wordpressEntity()] } as unknown as SyncFlowSpec;
    return { connector: httpConnector(spec, 'source', '', 'the API'), capabilities: HTTP_CAPABILITIES };
  }
  const spec = { direction: 'OneWay', source: { files: { directory: '/nonexistent' } }, target: { postgres: { secretRef: { name: 'dst' } } }, entities: [] } as unknown as SyncFlowSpec;
  return { connector: filesConnector(spec, { flowId: 'contract/feed', stateUrl: '', targets: {}, secrets: {} }), capabilities: FILES_CAPABILITIES };
}

describe.each(CONNECTORS)('change feed of %s', (kind) => {
  if (!isSql(kind)) {
    it('has none, declares changeFeed poll, and the watch loop polls at the interval', async () => {
      const { connector, capabilities } = offlineConnector(kind);
      expect(capabilities.changeFeed).toBe('poll');
      expect(connector.changeFeed).toBeUndefined();
      const runs: string[] = [];
      const started = Date.now();
      await watchLoop(async (trigger) => void runs.push(trigger), { intervalMs: 200, feeds: [], maxRuns: 3 });
      expect(runs).toEqual(['start', 'timeout', 'timeout']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    });
    return;
  }
  it('is there exactly when the connector declares changeFeed notify, and tells nothing before triggers are installed', async () => {
    const fixture = await initContract(kind, 'feed', CONTRACT_DDL);
    fixtures.push(fixture);
    const session = await fixture.open();
    expect(session.capabilities.changeFeed === 'notify').toBe(typeof fixture.connector.changeFeed === 'function');
    // Without triggers no system notifies: the watch polls.
    expect(await fixture.connector.changeFeed?.('', ['src_items'])).toBeUndefined();
  });

  it('wakes the watch loop on a change when it notifies, and the loop polls at the interval otherwise', { timeout: 60_000 }, async () => {
    const fixture = await initContract(kind, 'feed_wake', CONTRACT_DDL);
    fixtures.push(fixture);
    const runs: string[] = [];
    if (!fixture.connector.changeFeed) {
      // No feed: runs come at the polling interval.
      const started = Date.now();
      await watchLoop(async (trigger) => void runs.push(trigger), { intervalMs: 200, feeds: [], maxRuns: 3 });
      expect(runs).toEqual(['start', 'timeout', 'timeout']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      return;
    }
    const client = new pg.Client({ connectionString: fixture.db.url });
    await client.connect();
    await installChangeTriggers(client, 'public', ['src_items']);
    await client.end();
    const feed = await fixture.connector.changeFeed('', ['src_items']);
    expect(feed).toBeDefined();
    feeds.push(feed!);
    const started = Date.now();
    await watchLoop(
      async (trigger) => {
        runs.push(trigger);
        if (trigger === 'start') await fixture.db.exec(`INSERT INTO src_items VALUES ('fed', 'Fed', 1, 'new', now())`);
      },
      { intervalMs: 600_000, feeds: [feed!], maxRuns: 2 },
    );
    expect(runs).toEqual(['start', 'change']);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
