import { ident } from '../util/sql.js';
import { runTasks, withBulkSession } from './sql-pool.js';

/**
 * Runs the post-load part of source-schema.sql (indexes and foreign keys) and VACUUM ANALYZE,
 * table by table on parallel connections. VACUUM, not just ANALYZE: it sets hint bits and the
 * visibility map now, so the first sync (or benchmark) does not pay for that and autovacuum
 * does not start halfway through one.
 *
 * Adding a foreign key locks the referenced table against other such additions, so done as
 * written every check would queue behind `people`. Instead all keys are first added NOT VALID
 * (instant), and each table then gets, on one connection: its indexes, VACUUM (ANALYZE) — which
 * also lets the checks use index-only scans — and the validation of its keys. The end state is
 * the same as running the file as written.
 */
export async function finishLoadedTables(url: string, connections: number, postLoadSql: string, tables: string[]): Promise<void> {
  const statements = splitStatements(postLoadSql);
  const perTable = new Map<string, { indexes: string[]; validations: string[] }>();
  const tableOf = (name: string) => {
    const entry = perTable.get(name) ?? { indexes: [], validations: [] };
    perTable.set(name, entry);
    return entry;
  };

  await withBulkSession(url, async (client) => {
    for (const statement of statements) {
      const index = /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+\w+\s+ON\s+(\w+)/i.exec(statement);
      const foreignKey = /^ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:CONSTRAINT\s+\w+\s+)?FOREIGN\s+KEY/i.exec(statement);
      if (index) tableOf(index[1]).indexes.push(statement);
      else if (foreignKey) await client.query(`${statement.replace(/,(\s*\n\s*ADD\s)/gi, ' NOT VALID,$1')} NOT VALID`);
      else throw new Error(`source-schema.sql: unexpected statement after the post-load marker: ${statement.slice(0, 80)}`);
    }
    const { rows } = await client.query<{ table: string; constraint: string; bytes: string }>(
      `SELECT c.relname AS table, k.conname AS constraint, pg_relation_size(c.oid) AS bytes
       FROM pg_class c LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f' AND NOT k.convalidated
       WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname = ANY($1)
       ORDER BY 1, 2`,
      [tables],
    );
    for (const { table, constraint } of rows) {
      if (constraint) tableOf(table).validations.push(`ALTER TABLE ${ident(table)} VALIDATE CONSTRAINT ${ident(constraint)}`);
      else tableOf(table);
    }
    const weight = new Map(rows.map((r) => [r.table, Number(r.bytes) * (1 + tableOf(r.table).validations.length)]));
    const order = [...perTable.keys()].sort((a, b) => (weight.get(b) ?? 0) - (weight.get(a) ?? 0));
    const tasks = order.map((t) => {
      const { indexes, validations } = tableOf(t);
      return [...indexes, `VACUUM (ANALYZE) ${ident(t)}`, ...validations];
    });
    await runTasks(url, connections, tasks);
  });
}

/** Splits an SQL script at semicolons that end a line; drops comment-only lines. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.split('\n').filter((line) => !/^\s*--/.test(line)).join('\n').trim())
    .filter((s) => s.length > 0);
}
