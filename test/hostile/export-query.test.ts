import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateSyncFlow, type SyncFlow } from '../../src/api/index.js';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import { withClient } from '../helpers/databases.js';
import { mysqlFixture, type MysqlFixture } from '../helpers/mysql-connector.js';
import { exportFlow, exportOnce, exportSource, startDestinations, type Destinations } from '../integration/export/fixtures.js';

// Closes the probe's derived table, writes, and reopens one, so the whole text parses as three statements.
const BREAKOUT = 'SELECT 1) AS q; CREATE TABLE pwned AS SELECT * FROM members; SELECT * FROM (SELECT 1';

function flowOf(spec: SyncFlowSpec): SyncFlow {
  return { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'hostile' }, spec };
}

describe('an export query cannot write to the source', () => {
  it.each([
    ['a statement break-out', BREAKOUT],
    ['two statements', 'SELECT 1; DELETE FROM members'],
    ['a trailing semicolon', 'SELECT 1;'],
    ['a DELETE', 'DELETE FROM members'],
    ['a data-modifying WITH', 'WITH gone AS (DELETE FROM members RETURNING *) SELECT * FROM gone'],
    ['an unbalanced parenthesis', 'SELECT 1) AS x, (SELECT 2'],
    ['an unterminated string', "SELECT 'open"],
  ])('ferry validate refuses %s with the field path', (_name, query) => {
    const errors = validateSyncFlow(flowOf(exportFlow({ query }, [])));
    expect(errors.map((e) => e.path)).toContain('spec.target.export.query');
  });

  it.each([
    ['a plain SELECT', 'SELECT id, name FROM members WHERE name <> \'a;b)\' ORDER BY 1'],
    ['a WITH query', 'WITH m AS (SELECT id FROM members) SELECT * FROM m'],
    ['a trailing line comment', 'SELECT id FROM members -- all of them'],
    ['a dollar-quoted string', 'SELECT $x$ ; ) $x$ AS t'],
    ['a quoted identifier with a semicolon', 'SELECT 1 AS "a;)"'],
  ])('ferry validate accepts %s', (_name, query) => {
    expect(validateSyncFlow(flowOf(exportFlow({ query }, [])))).toEqual([]);
  });

  describe('at run time (validation bypassed)', () => {
    let servers: Destinations;
    let urls: { sourceUrl: string; stateUrl: string };
    let maria: MysqlFixture;

    beforeAll(async () => {
      servers = await startDestinations();
      urls = await exportSource();
      maria = await mysqlFixture('hostile_export_query');
      await maria.exec(['CREATE TABLE members (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB', "INSERT INTO members VALUES (1, 'Ann')"]);
    }, 120_000);
    afterAll(async () => {
      await servers?.close();
      await maria?.close();
    });

    const context = () => ({ targets: servers.targets, secrets: servers.secrets });

    it('PostgreSQL: a break-out query fails naming the field, and the source is unchanged', async () => {
      const { failure, report } = await exportOnce(urls, exportFlow({ query: BREAKOUT }, []), context(), { flowId: 'default/hostile-pg' });
      expect(report.export.creationStatus).toBe('Failed');
      expect(String(failure)).toContain('spec.target.export.query');
      expect(String(failure)).not.toContain("reading 'map'");
      const pwned = await withClient(urls.sourceUrl, (c) => c.query(`SELECT to_regclass('public.pwned') AS t`));
      expect(pwned.rows[0].t).toBeNull();
    });

    it('PostgreSQL: a query that writes through a function runs read-only', async () => {
      await withClient(urls.sourceUrl, (c) =>
        c.query(`CREATE TABLE IF NOT EXISTS canary (n int); CREATE OR REPLACE FUNCTION poke() RETURNS int LANGUAGE sql AS 'INSERT INTO canary VALUES (1) RETURNING n'`),
      );
      const { failure } = await exportOnce(urls, exportFlow({ query: 'SELECT poke() AS n' }, []), context(), { flowId: 'default/hostile-pg-fn' });
      expect(String(failure)).toContain('read-only');
      const count = await withClient(urls.sourceUrl, (c) => c.query('SELECT count(*)::int AS n FROM canary'));
      expect(count.rows[0].n).toBe(0);
    });

    it('MariaDB: a break-out query fails naming the field, and the source is unchanged', async () => {
      const spec = { ...exportFlow({ query: BREAKOUT }, []), source: { mysql: { secretRef: { name: 'src' } } } } as SyncFlowSpec;
      const { failure } = await exportOnce({ sourceUrl: maria.url, stateUrl: urls.stateUrl }, spec, context(), { flowId: 'default/hostile-maria' });
      expect(String(failure)).toContain('spec.target.export.query');
      expect(await maria.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'pwned'")).toEqual([['0']]);
    });
  });
});
