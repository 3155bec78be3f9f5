import type pg from 'pg';
import { ident } from '../util/sql.js';
import { runTasks } from './sql-pool.js';

/**
 * Runs the post-load part of source-schema.sql: its CREATE INDEX statements side by side, then
 * its foreign keys. Adding a foreign key locks the referenced table against other such
 * additions, so all of them would queue behind `people`; instead they are added NOT VALID
 * (instant) and then validated table by table in parallel, which ends in the same state.
 */
export async function runPostLoad(url: string, client: pg.Client, postLoadSql: string, connections: number): Promise<void> {
  const statements = splitStatements(postLoadSql);
  const indexes = statements.filter((s) => /^CREATE\s+(UNIQUE\s+)?INDEX/i.test(s));
  const foreignKeys = statements.filter((s) => /^ALTER\s+TABLE\b.*\bFOREIGN\s+KEY\b/is.test(s));
  const other = statements.filter((s) => !indexes.includes(s) && !foreignKeys.includes(s));

  await runTasks(url, connections, indexes.map((s) => [s]));
  for (const statement of other) await client.query(statement);
  for (const statement of foreignKeys) {
    await client.query(`${statement.replace(/,(\s*\n\s*ADD\s)/gi, ' NOT VALID,$1')} NOT VALID`);
  }
  const { rows } = await client.query<{ table: string; constraint: string }>(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS constraint
     FROM pg_constraint c
     WHERE c.contype = 'f' AND NOT c.convalidated AND c.connamespace = current_schema()::regnamespace
     ORDER BY 1, 2`,
  );
  const byTable = new Map<string, string[]>();
  for (const { table, constraint } of rows) {
    const list = byTable.get(table) ?? [];
    list.push(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${ident(constraint)}`);
    byTable.set(table, list);
  }
  await runTasks(url, connections, [...byTable.values()].sort((a, b) => b.length - a.length));
}

/** Splits an SQL script at semicolons that end a line; drops comment-only lines. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.split('\n').filter((line) => !/^\s*--/.test(line)).join('\n').trim())
    .filter((s) => s.length > 0);
}
