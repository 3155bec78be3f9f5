/**
 * Row l: pgloader (Debian's `pgloader`, 3.6.x), the real peer, for PostgreSQL -> PostgreSQL and
 * MariaDB -> PostgreSQL on the same rows into the same target schema as Ferry.
 *
 * Set up as a new user would: pgloader copies tables by name and columns by name, so the source
 * gets one view per target table (named like the target table, columns renamed as the flow maps
 * them, source ids passed as target ids like the psql baseline) in a schema (PostgreSQL) or
 * database (MariaDB) of its own, loaded with `MATERIALIZE ALL VIEWS` and
 * `ALTER SCHEMA 'pgl' RENAME TO 'public'`, `WITH data only` into the existing target tables.
 * `--dynamic-space-size 4096` because its default heap ran out at 100,000 people.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createTargetSchema } from '../src/demo/index.js';
import type { EntityPlan } from '../src/engine/plan.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { ident } from '../src/util/sql.js';
import { planEntities } from './baseline.js';
import { seconds, type BulkContext } from './bulk-context.js';
import { checkpoint } from './databases.js';
import { runMeasured, type FerryRun, type MeasuredRun } from './ferry-process.js';
import { MARIA_SOURCE_DB } from './mariadb-source.js';
import { databaseUrl, mappedColumns, mariaExec } from './mariadb.js';
import { row, type ResultRow } from './results.js';

export const VIEW_SCHEMA = 'pgl';

function viewSelect(plan: EntityPlan, q: (name: string) => string, from: string): string {
  const { source, target } = mappedColumns(plan);
  return `SELECT ${source.map((s, i) => `${q(s)} AS ${q(target[i])}`).join(', ')} FROM ${from}`;
}

/** Views `pgl.<target table>` in the PostgreSQL source database. */
export async function pgViews(sourceUrl: string, plans: EntityPlan[]): Promise<void> {
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${VIEW_SCHEMA} CASCADE; CREATE SCHEMA ${VIEW_SCHEMA}`);
    for (const p of plans) {
      await client.query(`CREATE VIEW ${VIEW_SCHEMA}.${ident(p.target.table)} AS ${viewSelect(p, ident, `public.${ident(p.source.table)}`)}`);
    }
  } finally {
    await client.end();
  }
}

/** A MariaDB database `pgl` holding views `<target table>` over the association database; returns its URL. */
export async function mariaViews(serverUrl: string, sourceDatabase: string, plans: EntityPlan[]): Promise<string> {
  const q = (n: string) => '`' + n + '`';
  const views = plans.map((p) => `CREATE VIEW ${VIEW_SCHEMA}.${q(p.target.table)} AS ${viewSelect(p, q, `${sourceDatabase}.${q(p.source.table)}`)}`);
  await mariaExec(serverUrl, [`DROP DATABASE IF EXISTS ${VIEW_SCHEMA}`, `CREATE DATABASE ${VIEW_SCHEMA}`, ...views].join(';\n'));
  return databaseUrl(serverUrl, VIEW_SCHEMA);
}

/** pgloader's URL spelling of a postgres:// URL. */
const pgloaderUrl = (url: string) => url.replace(/^postgres(ql)?:/, 'pgsql:');

export function loadCommand(source: string, into: string, sourceSchema: string): string {
  const from = pgloaderUrl(source);
  return [
    'LOAD DATABASE',
    `  FROM ${from}`,
    `  INTO ${pgloaderUrl(into)}`,
    // data only: the target tables stay as they are (with `create no tables` pgloader 3.6.7 drops
    // every index and key and then fails re-creating them for view sources); it drops the foreign
    // keys it knows of, copies, and adds them back.
    'WITH data only',
    'MATERIALIZE ALL VIEWS',
    ...(from.startsWith('pgsql:') ? [`INCLUDING ONLY TABLE NAMES MATCHING ~/./ IN SCHEMA '${sourceSchema}'`] : []),
    `ALTER SCHEMA '${sourceSchema}' RENAME TO 'public'`,
    ';',
  ].join('\n');
}

export interface PgloaderRun extends MeasuredRun {
  /** Rows in the target's tables after the load. */
  rows: number;
}

/** Runs pgloader on a command file and counts the rows it left in the target's tables. */
export async function runPgloader(work: string, label: string, from: string, into: string, sourceSchema: string, tables: string[]): Promise<PgloaderRun> {
  const file = join(work, `${label}.load`);
  writeFileSync(file, loadCommand(from, into, sourceSchema));
  const run = await runMeasured('pgloader', ['--dynamic-space-size', '4096', '--no-ssl-cert-verification', file]);
  writeFileSync(join(work, `${label}.log`), run.stdout + run.stderr);
  if (run.code !== 0) throw new Error(`pgloader ${label} exited with ${run.code}:\n${(run.stdout + run.stderr).slice(-3000)}`);
  return { ...run, rows: await countRows(into, tables) };
}

export async function countRows(url: string, tables: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const sql = [...new Set(tables)].map((t) => `SELECT count(*)::bigint AS n FROM ${ident(t)}`).join(' UNION ALL ');
    const { rows } = await client.query<{ n: string }>(sql);
    return rows.reduce((s, r) => s + Number(r.n), 0);
  } finally {
    await client.end();
  }
}

/** The target's foreign keys as DROP and ADD statements (pgloader keeps them for a MySQL source, and then loads tables out of order). */
async function foreignKeys(url: string): Promise<{ drop: string; add: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ drop: string; add: string }>(
      `SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop,
              format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS add
         FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
    );
    return { drop: rows.map((r) => r.drop).join(';\n'), add: rows.map((r) => r.add).join(';\n') };
  } finally {
    await client.end();
  }
}

async function execPg(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

type FerryPair = { full: FerryRun; again: FerryRun };

/**
 * Row l: pgloader next to Ferry on the same rows. PostgreSQL -> PostgreSQL compares with (a)/(b),
 * MariaDB -> PostgreSQL with m2's Full and no-change Full. For the MariaDB source the bench drops
 * the target's foreign keys before pgloader and adds them back after it (both timed): pgloader only
 * drops the foreign keys it knows from the source, which has views, so without this it copies
 * children before their parents and rejects them (and still exits 0).
 */
export async function pgloaderRows(ctx: BulkContext, ferryPg: FerryPair, ferryMy: FerryPair): Promise<ResultRow[]> {
  const { data, servers, maria } = ctx;
  const plans = await planEntities(ctx.flow.flow.spec, data.source, data.target);
  const tables = plans.map((p) => p.target.table);
  const expected = ferryPg.full.report.totals.created;

  await pgViews(data.source, plans);
  const intoPg = await ensureDatabase(servers.business.url, 'website_pgloader');
  await createTargetSchema(intoPg);
  await checkpoint(servers);
  ctx.say('pgloader PostgreSQL -> PostgreSQL (data only, views in schema pgl)');
  const pgRun = await runPgloader(ctx.work, 'pgloader-pg', data.source, intoPg, VIEW_SCHEMA, tables);
  await execPg(data.source, `DROP SCHEMA ${VIEW_SCHEMA} CASCADE`);
  ctx.say(`  ${pgRun.rows.toLocaleString('en-US')} rows in ${seconds(pgRun.wallMs).toFixed(1)} s, peak RSS ${pgRun.peakRssMb.toFixed(0)} MB`);
  ctx.step('pgloader PostgreSQL -> PostgreSQL', `${pgRun.rows.toLocaleString('en-US')} rows in ${seconds(pgRun.wallMs).toFixed(1)} s (CPU ${seconds(pgRun.cpuMs).toFixed(1)} s, peak RSS ${pgRun.peakRssMb.toFixed(0)} MB)`);
  if (pgRun.rows !== expected) throw new Error(`pgloader PostgreSQL -> PostgreSQL left ${pgRun.rows} rows, ferry created ${expected}; see ${ctx.work}/pgloader-pg.log`);

  const from = await mariaViews(maria.url, MARIA_SOURCE_DB, plans);
  const intoMy = await ensureDatabase(servers.business.url, 'website_pgloader_my');
  await createTargetSchema(intoMy);
  const fks = await foreignKeys(intoMy);
  await checkpoint(servers);
  ctx.say('pgloader MariaDB -> PostgreSQL (data only, views in database pgl, target FKs dropped and re-added around it)');
  const started = performance.now();
  await execPg(intoMy, fks.drop);
  const myRun = await runPgloader(ctx.work, 'pgloader-my', from, intoMy, VIEW_SCHEMA, tables);
  await execPg(intoMy, fks.add);
  const myMs = performance.now() - started;
  ctx.say(`  ${myRun.rows.toLocaleString('en-US')} rows in ${seconds(myMs).toFixed(1)} s (pgloader ${seconds(myRun.wallMs).toFixed(1)} s), peak RSS ${myRun.peakRssMb.toFixed(0)} MB`);
  ctx.step('pgloader MariaDB -> PostgreSQL', `${myRun.rows.toLocaleString('en-US')} rows in ${seconds(myMs).toFixed(1)} s incl. FK drop/re-add (pgloader ${seconds(myRun.wallMs).toFixed(1)} s, CPU ${seconds(myRun.cpuMs).toFixed(1)} s, peak RSS ${myRun.peakRssMb.toFixed(0)} MB)`);
  if (myRun.rows !== expected) throw new Error(`pgloader MariaDB -> PostgreSQL left ${myRun.rows} rows, ferry created ${expected}; see ${ctx.work}/pgloader-my.log`);

  return [
    row('l. PostgreSQL -> PostgreSQL initial load (ferry a / pgloader)', seconds(ferryPg.full.wallMs), 's', seconds(pgRun.wallMs), '<= 2.0x'),
    row('l. PostgreSQL -> PostgreSQL no-change Full (ferry b / pgloader load)', seconds(ferryPg.again.wallMs), 's', seconds(pgRun.wallMs), '< 1.0x'),
    row('l. MariaDB -> PostgreSQL initial load (ferry m2 / pgloader)', seconds(ferryMy.full.wallMs), 's', seconds(myMs), '<= 2.0x'),
    row('l. MariaDB -> PostgreSQL no-change Full (ferry m2 / pgloader load)', seconds(ferryMy.again.wallMs), 's', seconds(myMs), '< 1.0x'),
    row('l. pgloader peak RSS, PostgreSQL -> PostgreSQL', pgRun.peakRssMb, 'MB', null, '—'),
    row('l. pgloader peak RSS, MariaDB -> PostgreSQL', myRun.peakRssMb, 'MB', null, '—'),
  ];
}
