import { beforeEach, describe, expect, inject, it } from 'vitest';
import { runSync } from '../../src/connectors/run.js';
import type { RunRequest } from '../../src/engine/run.js';
import type { RunReport } from '../../src/engine/report.js';
import { createLogger } from '../../src/util/logger.js';
import { withClient } from '../helpers/databases.js';
import { MINI_SOURCE_SQL, miniFlowSpec, seedMini, seededMiniRun, sqlRows, type MiniDatabases } from '../helpers/mini-flow.js';

const logger = createLogger({ level: 'silent', pretty: false });

let dbs: MiniDatabases;
let base: Omit<RunRequest, 'mode'>;

beforeEach(async () => {
  ({ dbs, base } = await seededMiniRun('hostile/engine', logger));
});

const sql = sqlRows;
const entity = (report: RunReport, name: string) => report.entities.find((e) => e.name === name)!;

describe('hostile data: duplicate source keys', () => {
  it('rejects a key the source holds twice (a table without a primary key), counts what it read, and later runs work', async () => {
    await sql(dbs.sourceUrl, `ALTER TABLE firms DROP CONSTRAINT firms_pkey`);
    await sql(dbs.sourceUrl, `INSERT INTO firms VALUES (2, 'Globex twin', '2026-01-01 10:00:00+00')`);
    for (const mode of ['Full', 'Incremental', 'Full'] as const) {
      const report = await runSync({ ...base, mode });
      expect(report.status, `${mode}: ${report.error ?? ''}`).toBe('Succeeded');
      const firms = entity(report, 'firms');
      if (mode === 'Full') expect(firms.read).toBe(4);
      expect(firms.rejected).toBeGreaterThanOrEqual(mode === 'Full' ? 1 : 0);
      if (firms.rejected > 0) expect(JSON.stringify(report)).toMatch(/more than once/);
    }
    // Acme and Initech always arrive; the twin key 2 is written once at most.
    const titles = (await sql(dbs.targetUrl, `SELECT title FROM firms ORDER BY title`)).map((r) => r.title as string);
    expect(titles).toEqual(expect.arrayContaining(['Acme', 'Initech']));
    expect(titles.filter((t) => t.startsWith('Globex')).length).toBeLessThanOrEqual(1);
  });

  it('rejects a key repeated within one Incremental batch instead of failing the run', async () => {
    await runSync({ ...base, mode: 'Full' });
    await sql(dbs.sourceUrl, `ALTER TABLE firms DROP CONSTRAINT firms_pkey`);
    await sql(dbs.sourceUrl, `INSERT INTO firms VALUES (7, 'Seven', now()), (7, 'Seven twin', now())`);
    const first = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(first, 'firms')).toMatchObject({ read: 2, created: 1, rejected: 1 });
    expect(first.rejectedSamples).toEqual([{ entity: 'firms', key: '7', reason: 'key id appears more than once in the source' }]);
    const again = await runSync({ ...base, mode: 'Incremental' });
    expect(again.status).toBe('Succeeded');
    expect((await sql(dbs.targetUrl, `SELECT count(*)::int AS n FROM firms WHERE title LIKE 'Seven%'`))[0].n).toBeLessThanOrEqual(1);
  });
});

describe('hostile data: a cursor far in the future', () => {
  const firmTitle = async (title: string) => (await sql(dbs.targetUrl, `SELECT count(*)::int AS n FROM firms WHERE title = $1`, [title]))[0].n;

  it('a Full syncs a row dated 9999-12-31 but does not move the watermark past now + the tolerance; Incremental still sees later changes', async () => {
    await sql(dbs.sourceUrl, `UPDATE firms SET updated_at = '9999-12-31' WHERE id = 3`);
    const full = await runSync({ ...base, mode: 'Full' });
    expect(full.status).toBe('Succeeded');
    expect(await firmTitle('Initech')).toBe(1);
    expect(entity(full, 'firms').notes.join('\n')).toMatch(/updated_at beyond now \+ 24h.*key 3 at 9999-12-31.*watermark/s);

    await sql(dbs.sourceUrl, `UPDATE firms SET name = 'Acme Corp', updated_at = now() WHERE id = 1`);
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(incremental.status).toBe('Succeeded');
    expect(entity(incremental, 'firms').updated).toBe(1);
    expect(await firmTitle('Acme Corp')).toBe(1);
  });

  it('an Incremental that reads a row dated 9999-12-31 syncs it, warns, and later Incrementals still see changes', async () => {
    await runSync({ ...base, mode: 'Full' });
    await sql(dbs.sourceUrl, `UPDATE firms SET name = 'Globex Future', updated_at = '9999-12-31' WHERE id = 2`);
    const first = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(first, 'firms').updated).toBe(1);
    expect(entity(first, 'firms').notes.join('\n')).toMatch(/key 2.*9999-12-31/s);

    await sql(dbs.sourceUrl, `UPDATE firms SET name = 'Acme Corp', updated_at = now() WHERE id = 1`);
    const second = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(second, 'firms').updated).toBe(1);
    expect(await firmTitle('Acme Corp')).toBe(1);
  });

  it('a row within the tolerance (spec.cursorTolerance) moves the watermark as usual', async () => {
    base = { ...base, spec: miniFlowSpec({ cursorTolerance: '48h' }) };
    await runSync({ ...base, mode: 'Full' });
    await sql(dbs.sourceUrl, `UPDATE firms SET name = 'Acme Soon', updated_at = now() + interval '36 hours' WHERE id = 1`);
    const first = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(first, 'firms')).toMatchObject({ read: 1, updated: 1 });
    expect(entity(first, 'firms').notes).toEqual([]);
    const second = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(second, 'firms').read).toBe(0);
  });
});

describe('hostile data: bytes that are not UTF-8', () => {
  async function sqlAsciiDatabase(): Promise<string> {
    const base = new URL(inject('pgUrl'));
    const name = `hostile_ascii_${process.pid}_${Date.now().toString(36)}`;
    await withClient(base.toString(), (c) => c.query(`CREATE DATABASE "${name}" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`));
    base.pathname = `/${name}`;
    return base.toString();
  }

  it('a SQL_ASCII source holding \\xff\\xfe rejects that row (entity, key, column) and syncs the others', async () => {
    const sourceUrl = await sqlAsciiDatabase();
    await sql(sourceUrl, MINI_SOURCE_SQL);
    await seedMini(sourceUrl);
    await sql(sourceUrl, `UPDATE people SET name = 'Cy ' || E'\\xff\\xfe' WHERE id = 12`);
    base = { ...base, sourceUrl };
    for (const mode of ['Full', 'Full'] as const) {
      const report = await runSync({ ...base, mode });
      expect(report.status, report.error).toBe('Succeeded');
      const people = entity(report, 'people');
      expect(people).toMatchObject({ read: 7, rejected: 1 });
      expect(report.rejectedSamples.filter((r) => r.entity === 'people')).toEqual([
        { entity: 'people', key: '12', reason: expect.stringMatching(/column name.*(UTF-8|UTF8|encoding)/i) },
      ]);
    }
    await sql(sourceUrl, `UPDATE people SET updated_at = now() WHERE id IN (12, 13)`);
    const incremental = await runSync({ ...base, mode: 'Incremental' });
    expect(entity(incremental, 'people')).toMatchObject({ read: 2, rejected: 1 });
    expect((await sql(dbs.targetUrl, `SELECT email FROM people ORDER BY email`)).map((r) => r.email)).not.toContain('cy@example.org');
    expect((await sql(dbs.targetUrl, `SELECT count(*)::int AS n FROM people`))[0].n).toBe(6);
  });
});
