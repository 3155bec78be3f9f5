import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { installChangeTriggers } from '../../../../src/connectors/postgres/triggers.js';
import type { ChangeFeed } from '../../../../src/engine/connector.js';
import { watchLoop } from '../../../../src/engine/watch-loop.js';
import { CONTRACT_DDL } from './tables.js';
import { CONNECTORS, initContract, type ContractFixture } from './setup.js';

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

describe.each(CONNECTORS)('change feed of %s', (kind) => {
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
