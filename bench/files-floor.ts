/**
 * The state floor of the files-import row: what the baseline costs once it also keeps the one row of
 * state per record that Ferry keeps (`ferry.pairs`: the source key, the target key and both hashes),
 * which every later run needs to tell new, changed, unchanged and deleted records apart. The pairs
 * are Ferry's own, exported from its state DB after its import, and loaded with `psql \copy` into a
 * copy of `ferry.pairs` (same columns, keys and indexes) at the same time as the baseline pipeline
 * loads the target, each on its own connection, the way Ferry overlaps them. No tool that keeps such
 * state in PostgreSQL can import the file faster than this on the same machine.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { sqlRows } from '../test/helpers/mini-flow.js';

export interface FloorInput {
  /** The baseline's download step (to $LOCAL), and the env of its pipeline (GNUPGHOME, LOCAL...). */
  download: string;
  env: Record<string, string>;
  /** The CSV's columns and the target DDL for a fresh table of the same shape. */
  columns: string[];
  tableSql: (table: string) => string;
  targetUrl: string;
  stateUrl: string;
  work: string;
}

/** Seconds for the baseline (download, then `gpg | gunzip | psql \copy` into an empty target) with `psql \copy` of the pairs alongside. */
export async function measureStateFloor(input: FloorInput): Promise<number> {
  const pairsFile = join(input.work, 'pairs.csv');
  await sqlRows(input.targetUrl, input.tableSql('staff_floor'));
  await sqlRows(input.stateUrl, 'CREATE TABLE public.floor_pairs (LIKE ferry.pairs INCLUDING ALL)');
  const columns = 'scope, source_key, target_key, source_hash, target_hash, source_cursor';
  const psql = (url: string, command: string) => `psql "${url}" -X -q -v ON_ERROR_STOP=1 -c "${command}"`;
  execFileSync('bash', ['-c', psql(input.stateUrl, `\\copy (SELECT ${columns} FROM ferry.pairs) TO '${pairsFile}' WITH (FORMAT csv)`)]);
  const script = [
    'set -euo pipefail',
    `${psql(input.stateUrl, `\\copy public.floor_pairs (${columns}) FROM '${pairsFile}' WITH (FORMAT csv)`)} &`,
    'pairs=$!',
    input.download,
    `gpg --homedir "$GNUPGHOME" --batch --quiet --decrypt "$LOCAL" 2>/dev/null | gunzip | ${psql(input.targetUrl, `\\copy staff_floor (${input.columns.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER)`)}`,
    'wait $pairs',
  ].join('\n');
  const started = performance.now();
  execFileSync('bash', ['-c', script], { env: { ...process.env, ...input.env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const seconds = (performance.now() - started) / 1000;
  const [{ pairs }] = await sqlRows(input.stateUrl, 'SELECT count(*) AS pairs FROM public.floor_pairs');
  const [{ rows }] = await sqlRows(input.targetUrl, 'SELECT count(*) AS rows FROM staff_floor');
  if (Number(pairs) !== Number(rows)) throw new Error(`files bench floor: ${pairs} pairs loaded for ${rows} target rows`);
  return seconds;
}
