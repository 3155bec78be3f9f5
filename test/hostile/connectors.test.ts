import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/connectors/run.js';
import type { RunReport } from '../../src/engine/report.js';
import { createLogger } from '../../src/util/logger.js';
import { freshDatabase } from '../helpers/databases.js';
import { MINI_SOURCE, MINI_TARGET, pairingSpec, seedMiniRows, testDatabase } from '../helpers/pairings.js';
import { SQL_CONNECTORS, type SqlKind } from '../integration/connectors/contract/setup.js';

/** Hostile data that the engine handles the same way whatever the connector: run through each. */
const logger = createLogger({ level: 'silent', pretty: false });
const firms = (report: RunReport) => report.entities.find((e) => e.name === 'firms')!;

async function flow(kind: SqlKind, name: string) {
  const source = await testDatabase(kind, 'hostile_src');
  await source.exec(MINI_SOURCE[kind]);
  await seedMiniRows(source);
  const target = await testDatabase(kind, 'hostile_dst');
  await target.exec(MINI_TARGET[kind]);
  const request = { flowId: `hostile/${name}-${kind}`, spec: pairingSpec(kind, kind), sourceUrl: source.url, targetUrl: target.url, stateUrl: await freshDatabase('hostile_state'), logger };
  return { source, target, request };
}

describe.each(SQL_CONNECTORS)('hostile source data through %s', (kind) => {
  it('a row dated 9999-12-31 is synced and named, and does not freeze Incremental', async () => {
    const { source, target, request } = await flow(kind, 'future');
    await source.exec(`UPDATE firms SET updated_at = ${source.at('9999-12-31 00:00:00')} WHERE id = 3`);
    const full = await runSync({ ...request, mode: 'Full' });
    expect(firms(full).created).toBe(3);
    expect(firms(full).notes.join('\n')).toMatch(/key 3 at 9999-12-31/);
    await source.exec(`UPDATE firms SET name = 'Acme Corp', updated_at = ${source.at('2026-11-01 00:00:00')} WHERE id = 1`);
    const incremental = await runSync({ ...request, mode: 'Incremental' });
    expect(firms(incremental).updated).toBe(1);
    expect(await target.rows(`SELECT title FROM firms WHERE title = 'Acme Corp'`)).toHaveLength(1);
  });

  it('a key the source holds twice is rejected in Full and Incremental; the run goes on', async () => {
    const { source, request } = await flow(kind, 'duplicates');
    await source.exec(kind === 'mysql' ? `ALTER TABLE firms DROP PRIMARY KEY` : `ALTER TABLE firms DROP CONSTRAINT firms_pkey`);
    await source.exec(`INSERT INTO firms VALUES (2, 'Globex twin', ${source.at('2026-01-01 10:00:00')})`);
    const full = await runSync({ ...request, mode: 'Full' });
    expect(firms(full)).toMatchObject({ read: 4, rejected: 1 });
    await source.exec(`INSERT INTO firms VALUES (7, 'Seven', ${source.at('2026-11-01 00:00:00')}), (7, 'Seven twin', ${source.at('2026-11-01 00:00:00')})`);
    const incremental = await runSync({ ...request, mode: 'Incremental' });
    expect(incremental.status).toBe('Succeeded');
    expect(firms(incremental)).toMatchObject({ read: 2, created: 1, rejected: 1 });
  });
});
