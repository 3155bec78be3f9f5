/**
 * Row m1: a Full load of the association (PostgreSQL) into a MariaDB website schema with its own
 * AUTO_INCREMENT ids, against `psql \copy (SELECT …) TO STDOUT | mariadb -e 'LOAD DATA LOCAL INFILE …'`
 * per entity into a second copy of that schema; then a no-change Full.
 */
import { join } from 'node:path';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { ident } from '../src/util/sql.js';
import { planEntities, type BaselineResult } from './baseline.js';
import { seconds, written, perSecond, type BulkContext } from './bulk-context.js';
import { checkpoint } from './databases.js';
import { onMariaDb, writeManifests, type FerryRun } from './ferry-process.js';
import { createMariaDatabase, mappedColumns, mariaWebsiteSchema, pgColumnTypes, pgToMaria, pgValueForMaria } from './mariadb.js';
import { row, type ResultRow } from './results.js';

export async function mariaTargetRows(ctx: BulkContext): Promise<{ rows: ResultRow[]; full: FerryRun; again: FerryRun; native: BaselineResult }> {
  const { data, maria, servers } = ctx;
  const schema = mariaWebsiteSchema();
  const target = await createMariaDatabase(maria.url, 'website', schema);
  const native = await createMariaDatabase(maria.url, 'website_native', schema);
  const state = await ensureDatabase(servers.state.url, 'ferry_state_m1');

  const plans = await planEntities(ctx.flow.flow.spec, data.source, data.target);
  const types = await pgColumnTypes(data.source, plans.map((p) => p.source.table));
  const jobs = plans.map((p) => {
    const cols = mappedColumns(p);
    const t = types.get(p.source.table)!;
    const select = `SELECT ${cols.source.map((c) => pgValueForMaria(c, t.get(c))).join(', ')} FROM ${ident(p.source.table)}`;
    return { name: p.name, table: p.target.table, columns: cols.target, select };
  });
  await checkpoint(servers);
  ctx.say('m1 native: psql \\copy | mariadb LOAD DATA LOCAL INFILE into MariaDB website_native');
  const base = await pgToMaria(jobs, data.source, native);
  ctx.say(`  ${base.rows.toLocaleString('en-US')} rows in ${seconds(base.wallMs).toFixed(1)} s`);
  ctx.step('m1 native (psql \\copy | mariadb LOAD DATA)', `${base.rows.toLocaleString('en-US')} rows in ${seconds(base.wallMs).toFixed(1)} s = ${perSecond(base.rows, base.wallMs)} rows/s`);

  const dir = writeManifests(join(ctx.work, 'manifests-m1'), onMariaDb(ctx.flow, ['target']), { source: data.source, target });
  const full = await ctx.ferry('m1 Full load -> MariaDB', state, dir, 'Full');
  if (full.report.totals.created !== base.rows) ctx.say(`  NOTE: ferry created ${full.report.totals.created} rows, the native pipeline loaded ${base.rows}`);
  const again = await ctx.ferry('m1 Full, no changes', state, dir, 'Full');
  if (written(again.report) !== 0) process.exitCode = 1;
  const people = data.people.toLocaleString('en-US');
  return {
    full,
    again,
    native: base,
    rows: [
      row('m1. Full load -> MariaDB website (ferry / native)', seconds(full.wallMs), 's', seconds(base.wallMs), '<= 1.5x'),
      row('m1. second Full, no changes (ferry / native)', seconds(again.wallMs), 's', seconds(base.wallMs), '<= 0.5x'),
      row('m1. rows written by the no-change Full', written(again.report), 'rows', null, '== 0'),
      row(`m1. peak RSS of the Full load, ${people} people`, full.peakRssMb, 'MB', null, '<= 300 MB, flat 100k -> 1M'),
    ],
  };
}
