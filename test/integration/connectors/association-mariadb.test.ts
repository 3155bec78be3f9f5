import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifests, type SyncFlow } from '../../../src/api/index.js';
import { runSync } from '../../../src/connectors/run.js';
import { applyDemoChanges, generateAssociation } from '../../../src/demo/index.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { createLogger } from '../../../src/util/logger.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { testDatabase, type TestDatabase } from '../../helpers/pairings.js';

/** The association demo into the MariaDB website of examples/association-mariadb: every table, every foreign key. */
const logger = createLogger({ level: 'silent', pretty: false });
const example = (...path: string[]) => join(packageRoot(), 'examples', ...path);
let website: TestDatabase;
let base: Omit<RunRequest, 'mode'>;
let flow: SyncFlow;

beforeAll(async () => {
  const [sourceUrl, stateUrl] = [await freshDatabase('assoc_src'), await freshDatabase('assoc_state')];
  website = await testDatabase('mysql', 'website');
  await generateAssociation(sourceUrl, { people: 300 });
  await website.exec(readFileSync(example('association-mariadb', 'website-schema.sql'), 'utf8'));
  flow = parseManifests(readFileSync(example('association-mariadb', 'syncflow.yaml'), 'utf8'), 'syncflow.yaml').flows[0] as SyncFlow;
  base = { flowId: 'test/association-mariadb', spec: flow.spec, sourceUrl, targetUrl: website.url, stateUrl, logger };
});

const count = async (db: TestDatabase | string, table: string) =>
  typeof db === 'string'
    ? Number(await withClient(db, async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n))
    : Number((await db.rows(`SELECT count(*) AS n FROM \`${table}\``))[0].n);

describe('examples/association-mariadb', () => {
  it('is examples/association with only its name and target changed', () => {
    const postgres = parse(readFileSync(example('association', 'syncflow.yaml'), 'utf8'));
    const mariadb = parse(readFileSync(example('association-mariadb', 'syncflow.yaml'), 'utf8'));
    expect({ ...mariadb.spec, target: undefined, description: undefined }).toEqual({ ...postgres.spec, target: undefined, description: undefined });
    expect(mariadb.spec.target).toEqual({ mysql: { secretRef: { name: 'website-mariadb' } } });
  });

  it('a Full sync fills every website table with its own AUTO_INCREMENT ids; a second Full writes nothing; Incremental picks up changes', async () => {
    const report = await runSync({ ...base, mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    expect(report.totals.rejected).toBe(0);
    for (const entity of flow.spec.entities) {
      expect(await count(website, entity.target.table), entity.name).toBe(await count(base.sourceUrl, entity.source.table));
    }
    // Foreign keys point at the website's own ids (InnoDB checks them; the counts show every row got a parent).
    const orphans = await website.rows(`SELECT count(*) AS n FROM people p LEFT JOIN states s ON s.id = p.state_id WHERE p.state_id IS NOT NULL AND s.id IS NULL`);
    expect(orphans).toEqual([{ n: '0' }]);
    const ids = await website.rows(`SELECT min(id) AS low FROM people`);
    expect(Number(ids[0].low)).toBeGreaterThanOrEqual(100000001);

    const again = await runSync({ ...base, mode: 'Full' });
    expect(again.totals.created + again.totals.updated + again.totals.deleted + again.totals.archived).toBe(0);

    const changes = await applyDemoChanges(base.sourceUrl, { updates: 20, inserts: 5, deletes: 0 });
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(incremental.status).toBe('Succeeded');
    expect(incremental.totals.rejected).toBe(0);
    expect(incremental.totals.created + incremental.totals.updated).toBeGreaterThan(0);
    expect(changes).toBeDefined();
    const full = await runSync({ ...base, mode: 'Full' });
    expect(full.totals.created + full.totals.updated + full.totals.deleted + full.totals.archived).toBe(0);
  });
});
