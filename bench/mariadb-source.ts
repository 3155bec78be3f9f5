/**
 * Row m2: MariaDB -> PostgreSQL. The association's rows are first copied into a MariaDB
 * `association` database (same schema in MariaDB's words; not timed), then Ferry runs a Full load
 * into an empty PostgreSQL website, against `mariadb -B -N -e 'SELECT …' | psql \copy … FROM STDIN`
 * per entity into a second empty website; then a no-change Full.
 */
import { join } from 'node:path';
import { createTargetSchema } from '../src/demo/index.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { ident, qualified } from '../src/util/sql.js';
import { planEntities, type BaselineResult } from './baseline.js';
import { seconds, written, perSecond, type BulkContext } from './bulk-context.js';
import { checkpoint } from './databases.js';
import { onMariaDb, writeManifests, type FerryRun } from './ferry-process.js';
import { copyAssociationToMaria, databaseUrl, mappedColumns, mariaToPg } from './mariadb.js';
import { row, type ResultRow } from './results.js';

export const MARIA_SOURCE_DB = 'association';

export async function mariaSourceRows(ctx: BulkContext): Promise<{ rows: ResultRow[]; full: FerryRun; again: FerryRun; native: BaselineResult }> {
  const { data, maria, servers } = ctx;
  ctx.say(`m2: copying the association into MariaDB (${data.rows.toLocaleString('en-US')} rows, not timed)`);
  let t = performance.now();
  const source = await copyAssociationToMaria(data.source, maria.url, MARIA_SOURCE_DB);
  ctx.say(`  done in ${seconds(performance.now() - t).toFixed(1)} s`);
  const target = await ensureDatabase(servers.business.url, 'website_m2');
  const native = await ensureDatabase(servers.business.url, 'website_m2_native');
  await createTargetSchema(target);
  await createTargetSchema(native);
  const state = await ensureDatabase(servers.state.url, 'ferry_state_m2');

  const plans = await planEntities(ctx.flow.flow.spec, data.source, data.target);
  const q = (n: string) => '`' + n + '`';
  const jobs = plans.map((p) => {
    const cols = mappedColumns(p);
    return {
      name: p.name,
      select: `SELECT ${cols.source.map(q).join(', ')} FROM ${q(p.source.table)}`,
      copyIn: `\\copy ${qualified('public', p.target.table)} (${cols.target.map(ident).join(', ')}) FROM STDIN WITH (NULL 'NULL')`,
    };
  });
  await checkpoint(servers);
  ctx.say('m2 native: mariadb -B -e SELECT | psql \\copy FROM STDIN into website_m2_native');
  t = performance.now();
  const base = await mariaToPg(jobs, databaseUrl(maria.url, MARIA_SOURCE_DB), native);
  ctx.say(`  ${base.rows.toLocaleString('en-US')} rows in ${seconds(base.wallMs).toFixed(1)} s`);
  ctx.step('m2 native (mariadb -B -e SELECT | psql \\copy)', `${base.rows.toLocaleString('en-US')} rows in ${seconds(base.wallMs).toFixed(1)} s = ${perSecond(base.rows, base.wallMs)} rows/s`);

  const dir = writeManifests(join(ctx.work, 'manifests-m2'), onMariaDb(ctx.flow, ['source']), { source, target });
  const full = await ctx.ferry('m2 Full load MariaDB -> PostgreSQL', state, dir, 'Full');
  if (full.report.totals.created !== base.rows) ctx.say(`  NOTE: ferry created ${full.report.totals.created} rows, the native pipeline loaded ${base.rows}`);
  const again = await ctx.ferry('m2 Full, no changes', state, dir, 'Full');
  if (written(again.report) !== 0) process.exitCode = 1;
  const people = data.people.toLocaleString('en-US');
  return {
    full,
    again,
    native: base,
    rows: [
      row('m2. Full load MariaDB -> PostgreSQL (ferry / native)', seconds(full.wallMs), 's', seconds(base.wallMs), '<= 1.5x'),
      row('m2. second Full, no changes (ferry / native)', seconds(again.wallMs), 's', seconds(base.wallMs), '<= 0.5x'),
      row('m2. rows written by the no-change Full', written(again.report), 'rows', null, '== 0'),
      row(`m2. peak RSS of the Full load, ${people} people`, full.peakRssMb, 'MB', null, '<= 300 MB, flat 100k -> 1M'),
    ],
  };
}
