import { availableParallelism } from 'node:os';
import type pg from 'pg';
import { DatasetSql, type Load } from './dataset-sql.js';
import { personChildLoads, eventChildLoads } from './load-children.js';
import { lookupLoads } from './load-lookups.js';
import { eventLoads, firmLoads, peopleLoads } from './load-main.js';
import { BAD_ROWS, countBadPeople, planDataset } from './plan.js';
import { finishLoadedTables } from './post-load.js';
import { sourceSchema, targetSchemaSql, createdTables } from './schema-files.js';
import { runTasks, withBulkSession } from './sql-pool.js';
import { ConfigError } from '../util/errors.js';
import { ident } from '../util/sql.js';

export const DEFAULT_SEED = 1;

export interface GenerateOptions {
  people: number;
  seed?: number;
  /** Create the empty schema (with all indexes and foreign keys) but load no rows. */
  schemaOnly?: boolean;
  /** Break a few people on purpose (see BAD_ROWS): an over-long e-mail and a firm_id without a firm. */
  badRows?: boolean;
  /** Drop the association tables first if they exist (only those tables; nothing else is touched). */
  replace?: boolean;
  /** Connections loading tables side by side; defaults to the number of CPUs, at most 4. */
  parallel?: number;
  /** Told about each step as it finishes, e.g. "loaded 5,323,563 rows in 31.2 s". */
  progress?: (message: string) => void;
}

export interface GenerateSummary {
  people: number;
  seed: number;
  badRows: { longEmail: number; missingFirm: number };
  /** Rows per table. */
  tables: Record<string, number>;
  totalRows: number;
  elapsedMs: number;
}

/**
 * Creates the association schema in the database at `sourceUrl` and fills it. The same
 * people count and seed always produce identical rows, timestamps included.
 */
export async function generateAssociation(sourceUrl: string, opts: GenerateOptions): Promise<GenerateSummary> {
  const started = performance.now();
  const seed = opts.seed ?? DEFAULT_SEED;
  const badRows = Boolean(opts.badRows) && !opts.schemaOnly;
  const people = opts.schemaOnly ? 0 : opts.people;
  const dataset = new DatasetSql(planDataset(people), seed, badRows);
  const schema = sourceSchema();

  const connections = Math.max(1, opts.parallel ?? Math.min(4, availableParallelism()));
  await withBulkSession(sourceUrl, async (client) => {
    if (opts.replace) await dropTables(client, schema.tableNames);
    else await refuseExistingTables(client, schema.tableNames);
    await client.query(schema.tables);
  });

  const loads = opts.schemaOnly ? [] : allLoads(dataset);
  const rows = loads.reduce((sum, load) => sum + load.rows, 0);
  const step = stepTimer(opts.progress);
  await runTasks(sourceUrl, connections, largestFirst(loads).map((load) => [load.sql]));
  step(`loaded ${rows.toLocaleString('en-US')} rows`);
  await finishLoadedTables(sourceUrl, connections, schema.postLoad, schema.tableNames);
  step('built indexes, vacuumed, analyzed and checked foreign keys');

  const tables = Object.fromEntries(schema.tableNames.map((t) => [t, 0]));
  for (const load of loads) tables[load.table] += load.rows;
  return {
    people,
    seed,
    badRows: {
      longEmail: badRows ? countBadPeople(people, BAD_ROWS.longEmail) : 0,
      missingFirm: badRows ? countBadPeople(people, BAD_ROWS.missingFirm) : 0,
    },
    tables,
    totalRows: Object.values(tables).reduce((a, b) => a + b, 0),
    elapsedMs: Math.round(performance.now() - started),
  };
}

/** Creates the website schema (tables, foreign keys, indexes) in the database at `targetUrl`. */
export async function createTargetSchema(targetUrl: string, opts: { replace?: boolean } = {}): Promise<void> {
  const sql = targetSchemaSql();
  await withBulkSession(targetUrl, async (client) => {
    if (opts.replace) await dropTables(client, createdTables(sql));
    await client.query(sql);
  });
}

function allLoads(d: DatasetSql): Load[] {
  return [...lookupLoads(), ...firmLoads(d), ...peopleLoads(d), ...eventLoads(d), ...personChildLoads(d), ...eventChildLoads(d)];
}

/** Costliest tables first, so parallel connections finish at about the same time. */
function largestFirst(loads: Load[]): Load[] {
  // A person row (29 columns) takes about six times as long to generate as a child row.
  const weight = (l: Load) => (l.table === 'people' ? l.rows * 6 : l.rows);
  return [...loads].sort((a, b) => weight(b) - weight(a));
}

function stepTimer(progress: ((message: string) => void) | undefined): (done: string) => void {
  let last = performance.now();
  return (done) => {
    const now = performance.now();
    progress?.(`${done} in ${((now - last) / 1000).toFixed(1)} s`);
    last = now;
  };
}

async function refuseExistingTables(client: pg.Client, tables: string[]): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)
     ORDER BY 1`,
    [tables],
  );
  if (rows.length > 0) {
    throw new ConfigError(`the database already has association tables (${rows.slice(0, 5).map((r) => r.name).join(', ')}${rows.length > 5 ? ', …' : ''}); use replace to recreate them`);
  }
}

async function dropTables(client: pg.Client, tables: string[]): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${tables.map(ident).join(', ')} CASCADE`);
}
