import { spawn } from 'node:child_process';
import { withFlowDefaults } from '../src/api/defaults.js';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import pg from 'pg';
import type { SyncFlowSpec } from '../src/api/index.js';
import { conditionSql, transformSql } from '../src/connectors/postgres/sql.js';
import { readTable, type TableInfo } from '../src/connectors/postgres/catalog.js';
import { planFlow, type EntityPlan } from '../src/engine/plan.js';
import { ident, qualified } from '../src/util/sql.js';

/** One `psql \copy … TO STDOUT | psql \copy … FROM STDIN` pipeline: the same rows and columns the flow maps. */
export interface Pipeline {
  entity: string;
  copyOut: string;
  copyIn: string;
}

export interface BaselineResult {
  wallMs: number;
  rows: number;
  perTable: { entity: string; rows: number; wallMs: number }[];
}

/**
 * The near-physical floor for the flow: per entity, in the engine's dependency order, the mapped
 * source columns (with the flow's transforms and conditions) copied straight into the mapped target
 * columns. Keys are not translated: a single-column source key goes into the target key column
 * as is, and lookup columns keep their source ids (the lookup tables got the same ids), so the
 * target's foreign keys hold. Composite source keys leave the target key to its default.
 */
export async function planPipelines(spec: SyncFlowSpec, sourceUrl: string, targetUrl: string): Promise<Pipeline[]> {
  return (await planEntities(spec, sourceUrl, targetUrl)).map(pipelineFor);
}

/** The engine's own plan of the flow (dependency order, mapped columns), from PostgreSQL catalogs of both sides. */
export async function planEntities(spec: SyncFlowSpec, sourceUrl: string, targetUrl: string): Promise<EntityPlan[]> {
  const catalog = await readCatalogs(spec, sourceUrl, targetUrl);
  return planFlow(withFlowDefaults(spec), (side, table) => catalog[side].get(table)).entities;
}

function pipelineFor(plan: EntityPlan): Pipeline {
  const source: string[] = [];
  const target: string[] = [];
  const passKey = plan.target.keyMode === 'generated' && plan.source.keys.length === 1 && plan.target.keys.length === 1;
  if (passKey) {
    source.push(ident(plan.source.keys[0]));
    target.push(ident(plan.target.keys[0]));
  }
  for (const field of [...plan.keyFields, ...plan.fields]) {
    source.push(transformSql(ident(field.source), field.transform));
    target.push(ident(field.target));
  }
  const where = plan.source.conditions.length === 0 ? '' : ` WHERE ${conditionSql(plan.source.conditions)}`;
  const from = qualified(plan.source.schema, plan.source.table);
  return {
    entity: plan.name,
    copyOut: `\\copy (SELECT ${source.join(', ')} FROM ${from}${where}) TO STDOUT`,
    copyIn: `\\copy ${qualified(plan.target.schema, plan.target.table)} (${target.join(', ')}) FROM STDIN`,
  };
}

async function readCatalogs(spec: SyncFlowSpec, sourceUrl: string, targetUrl: string) {
  const catalog = { source: new Map<string, TableInfo | undefined>(), target: new Map<string, TableInfo | undefined>() };
  const read = async (url: string, side: 'source' | 'target', schema: string, tables: string[]) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const table of tables) catalog[side].set(table, await readTable(client, schema, table));
    } finally {
      await client.end();
    }
  };
  await read(sourceUrl, 'source', spec.source.postgres?.schema ?? 'public', spec.entities.map((e) => e.source.table));
  await read(targetUrl, 'target', spec.target.postgres?.schema ?? 'public', spec.entities.map((e) => e.target.table));
  return catalog;
}

/**
 * The psql binary: $PSQL, else the real binary behind Debian's /usr/bin/psql, which is a Perl
 * wrapper (pg_wrapper) costing ~0.1 s per start, else `psql` from the PATH.
 */
export function psqlBinary(): string {
  if (process.env.PSQL) return process.env.PSQL;
  const wrapper = '/usr/bin/psql';
  if (existsSync(wrapper) && realpathSync(wrapper).endsWith('pg_wrapper') && existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/psql`));
    const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
    if (newest) return `/usr/lib/postgresql/${newest}/bin/psql`;
  }
  return 'psql';
}

/** The shell command of one pipeline; the SQL and URLs come from the environment, so nothing needs quoting. */
export const PIPELINE_SHELL =
  'set -o pipefail; "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$SOURCE_URL" -c "$COPY_OUT" | "$PSQL" -X -v ON_ERROR_STOP=1 -d "$TARGET_URL" -c "$COPY_IN"';

/** Runs the pipelines one after the other (as the engine syncs entities) and sums their wall times. */
export async function runBaseline(pipelines: Pipeline[], sourceUrl: string, targetUrl: string): Promise<BaselineResult> {
  const perTable: BaselineResult['perTable'] = [];
  const psql = psqlBinary();
  for (const p of pipelines) {
    const started = performance.now();
    const output = await shell(PIPELINE_SHELL, { PSQL: psql, SOURCE_URL: sourceUrl, TARGET_URL: targetUrl, COPY_OUT: p.copyOut, COPY_IN: p.copyIn });
    const wallMs = performance.now() - started;
    const rows = Number(/COPY (\d+)/.exec(output)?.[1] ?? NaN);
    if (!Number.isFinite(rows)) throw new Error(`baseline ${p.entity}: no COPY count in psql output: ${output}`);
    perTable.push({ entity: p.entity, rows, wallMs });
  }
  return {
    wallMs: perTable.reduce((sum, t) => sum + t.wallMs, 0),
    rows: perTable.reduce((sum, t) => sum + t.rows, 0),
    perTable,
  };
}

export function shell(command: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`pipeline failed (${code}): ${err || out}`))));
  });
}
