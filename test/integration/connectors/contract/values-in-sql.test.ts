import { describe, expect, it } from 'vitest';
import type { Entity } from '../../../../src/api/entity.js';
import { runSync } from '../../../../src/connectors/run.js';
import type { RunReport } from '../../../../src/engine/report.js';
import { createLogger } from '../../../../src/util/logger.js';
import { freshDatabase } from '../../../helpers/databases.js';
import { MINI_SOURCE, MINI_TARGET, pairingSpec, testDatabase, type TestDatabase } from '../../../helpers/pairings.js';
import { CONNECTORS, contractIt, isSql, sqlText, type SqlKind } from './setup.js';

/**
 * Values never change a statement's meaning: backslash, quote and NUL payloads in condition values,
 * archive values, Record keys and match values, with PostgreSQL's `standard_conforming_strings`
 * off (where a backslash in a plain '' literal escapes the quote that follows it).
 */
const logger = createLogger({ level: 'silent', pretty: false });
// Fits people.full_name varchar(20) on the target.
const BQ = "\\'; DROP TABLE x--";
const IN_SCOPE = "a'b\\";
const ARCHIVE_VALUE = "gone\\', title = 'pwned";
const written = (r: RunReport) => r.totals.created + r.totals.updated + r.totals.archived + r.totals.deleted;

async function nonStandardStrings(db: TestDatabase): Promise<void> {
  if (db.kind !== 'postgres') return;
  await db.exec(`ALTER DATABASE "${new URL(db.url).pathname.slice(1)}" SET standard_conforming_strings = off`);
}

function entities(conditionValues: string[], archiveValue: string): Entity[] {
  const spec = pairingSpec('postgres', 'postgres');
  return spec.entities.map((e) => {
    if (e.name === 'firms') return { ...e, target: { ...e.target, archive: { column: 'note', value: archiveValue } } };
    if (e.name === 'people') return { ...e, source: { ...e.source, conditions: [{ field: 'status', values: conditionValues }] } };
    return e;
  });
}

async function setup(kind: SqlKind) {
  const [source, target, stateUrl] = await Promise.all([testDatabase(kind, 'sqlv_src'), testDatabase(kind, 'sqlv_dst'), freshDatabase('sqlv_state')]);
  await Promise.all([nonStandardStrings(source), nonStandardStrings(target)]);
  await source.exec(MINI_SOURCE[kind]);
  await target.exec(MINI_TARGET[kind]);
  await target.exec(`ALTER TABLE firms ADD COLUMN note varchar(100)`);
  const t = source.at('2026-01-01 10:00:00');
  const s = (v: string) => sqlText(kind, v);
  await source.exec(`INSERT INTO firms VALUES (1, ${s("Smith's")}, ${t}), (2, ${s('C:\\temp')}, ${t}), (3, 'Gone', ${t})`);
  await source.exec(`INSERT INTO people VALUES
    (10, ${s(BQ)}, ${s("ann\\'@example.org")}, ${s(IN_SCOPE)}, 1, ${t}),
    (11, ${s('back\\slash')}, 'bob@example.org', 'Member', 2, ${t}),
    (12, ${s("o'neil")}, ${s("o'brien\\@example.org")}, ${s(IN_SCOPE)}, 1, ${t}),
    (13, 'Out', 'out@example.org', ${s("x' OR 'a'='a")}, 1, ${t}),
    (14, 'Out2', 'out2@example.org', ${s("\\' OR 1=1 --")}, 1, ${t})`);
  // Already on the target: linked by its e-mail (match Lower), never duplicated.
  await target.exec(`INSERT INTO people (full_name, email, status) VALUES ('Linked', ${sqlText(kind, "O'BRIEN\\@EXAMPLE.ORG")}, 'x')`);
  const request = (conditionValues: string[], archiveValue = ARCHIVE_VALUE) => ({
    flowId: `test/sql-values-${kind}`,
    spec: pairingSpec(kind, kind, { entities: entities(conditionValues, archiveValue) }),
    sourceUrl: source.url,
    targetUrl: target.url,
    stateUrl,
    logger,
  });
  return { source, target, request };
}

describe.each(CONNECTORS)('values in SQL text: %s', (kind) => {
  if (!isSql(kind)) return contractIt(kind, ['sql'], 'values never change a statement', () => {});
  it('syncs rows whose values, conditions, archive value and match values hold backslashes and quotes, and nothing else', async () => {
    const { source, target, request } = await setup(kind);
    const conditions = [IN_SCOPE, 'Member', "x\\' OR 1=1 --"];
    const report = await runSync({ ...request(conditions), mode: 'Full' });
    expect(report.status).toBe('Succeeded');
    const people = await target.rows(`SELECT full_name, email, status FROM people ORDER BY email`);
    expect(people).toEqual(
      [
        { full_name: BQ, email: "ann\\'@example.org", status: IN_SCOPE },
        { full_name: 'back\\slash', email: 'bob@example.org', status: 'Member' },
        // Linked to the row already there, then updated to the source's values.
        { full_name: "o'neil", email: "o'brien\\@example.org", status: IN_SCOPE },
      ].sort((a, b) => (a.email < b.email ? -1 : 1)),
    );
    expect(report.entities.find((e) => e.name === 'people')).toMatchObject({ linked: 1 });
    expect(people.length).toBe(3);

    await source.exec(`DELETE FROM firms WHERE id = 3`);
    const archived = await runSync({ ...request(conditions), mode: 'Full' });
    expect(archived.totals.archived).toBe(1);
    const firms = await target.rows(`SELECT title, note FROM firms ORDER BY title`);
    expect(firms).toEqual(
      [
        { title: 'C:\\temp', note: null },
        { title: 'Gone', note: ARCHIVE_VALUE },
        { title: "Smith's", note: null },
      ].sort((a, b) => (a.title < b.title ? -1 : 1)),
    );
    expect(written(await runSync({ ...request(conditions), mode: 'Full' }))).toBe(0);
  });

  it('treats Record keys with quotes, backslashes and NUL as keys: no statement breaks, nothing else changes', async () => {
    const { source, target, request } = await setup(kind);
    const conditions = [IN_SCOPE, 'Member'];
    await runSync({ ...request(conditions), mode: 'Full' });
    const before = { source: await source.rows(`SELECT id, name FROM people ORDER BY id`), target: await target.rows(`SELECT full_name FROM people ORDER BY id`) };
    for (const key of [BQ, "10' OR '1'='1", '10\\', '10\0']) {
      const outcome = await runSync({ ...request(conditions), mode: 'Record', record: { entity: 'people', key } }).then(
        (r) => ({ written: written(r), error: '' }),
        (error: Error) => ({ written: 0, error: error.message }),
      );
      expect(outcome.written, `${JSON.stringify(key)}: ${outcome.error}`).toBe(0);
      expect(outcome.error, JSON.stringify(key)).not.toMatch(/syntax error/i);
    }
    expect(await source.rows(`SELECT id, name FROM people ORDER BY id`)).toEqual(before.source);
    expect(await target.rows(`SELECT full_name FROM people ORDER BY id`)).toEqual(before.target);
  });

  it('a NUL in a condition or archive value is refused naming the field on PostgreSQL, and compared as data on MariaDB', async () => {
    const { target, request } = await setup(kind);
    const condition = await runSync({ ...request([IN_SCOPE, 'Mem\0ber']), mode: 'Full' }).then(
      () => '',
      (error: Error) => error.message,
    );
    if (kind === 'postgres') {
      expect(condition).toMatch(/condition on status.*NUL/);
      expect(await target.rows(`SELECT full_name FROM people`)).toEqual([{ full_name: 'Linked' }]);
    } else {
      expect(condition).toBe('');
      expect((await target.rows(`SELECT status FROM people ORDER BY status`)).map((r) => r.status)).toEqual([IN_SCOPE, IN_SCOPE]);
    }
  });
});
