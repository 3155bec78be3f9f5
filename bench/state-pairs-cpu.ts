/**
 * The state database's CPU for a first import's pairs, in isolation: N pairs shaped like the
 * files-import bench's (flow `default/files-import`, entity `employees`, source keys `E1`..`EN` in file
 * order, target keys drawn in order, md5 hashes, file positions as cursors), written into a fresh
 * state database (migrated by openStateStore) in one of these ways:
 *
 *   copy       one COPY of every pair (what psql \copy costs: the floor)
 *   batches    Ferry's way (engine/one-way/grouped-batches.ts commitPairs): per batch of 5000 a
 *              multi-statement BEGIN + DELETE of the done markers + INSERT of the batch's marker
 *              (RunState.beginWithInflight), the COPY of its pairs (PairStore.insertNew), COMMIT
 *              (without waiting for the WAL flush but for each group's last batch, groups of 16)
 *   nomarker   as batches, without the markers (BEGIN, pairs, COMMIT)
 *   markers    as batches, without the pairs (the markers' share)
 *
 * and prints the CPU seconds of the session's backend (/proc/<pg_backend_pid()>/stat) and of the
 * server's other processes (WAL writer, checkpointer...) over the writes, with the load average, the
 * WAL written and the sizes of ferry.pairs and its indexes after (bytes do not vary with load), then
 * the backend's CPU for the ANALYZE of ferry.pairs that a run asks for after a bulk load, and the
 * time of the category counts a run ends with.
 *
 *   npx tsx bench/state-pairs-cpu.ts [--rows 1000000] [--variants copy,batches,nomarker,markers] [--repeat 1] [--setup SQL]
 *   (--setup: statements run on each fresh state database after its migrations, to try a schema change)
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { openStateStore } from '../src/store/db.js';
import { PairStore, type PairWrite } from '../src/store/pairs.js';
import { RunState } from '../src/store/run-state.js';
import { categoryCounts } from '../src/store/two-way-pairs.js';
import { StateConnection } from '../src/store/state-connection.js';
import { CopyData } from '../src/util/copy-text.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { postmasterOf } from './backend-cpu.js';
import { childrenOf, processCpuSeconds } from './proc.js';

const FLOW = 'default/files-import';
const ENTITY = 'employees';
const BATCH = 5000;
const GROUP = 16;
const VARIANTS = ['copy', 'batches', 'nomarker', 'markers'] as const;
type Variant = (typeof VARIANTS)[number];

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** Pair `i` (1-based) as the files bench writes it. */
function pairOf(i: number): PairWrite {
  return {
    sourceKey: `E${i}`,
    targetKey: 'p' + String(i).padStart(19, '0'),
    sourceHash: md5(`s${i}`),
    targetHash: md5(`t${i}`),
    sourceCursor: `000000000001:${String(i + 1).padStart(12, '0')}`,
  };
}

/** utime + stime of a process, in seconds (0 once gone). */
const cpuSeconds = (pid: number): number => processCpuSeconds(pid) ?? 0;

/** CPU seconds of every child of the postmaster but `except` (background processes, other sessions). */
function serverOthersCpu(postmaster: number, except: number): number {
  let total = 0;
  for (const pid of childrenOf(postmaster)) if (pid !== except) total += processCpuSeconds(pid) ?? 0;
  return total;
}

async function writeCopy(state: StateConnection, rows: number): Promise<void> {
  const scope = (await state.client.query(`SELECT ferry.pair_scope($1, $2) AS id`, [FLOW, ENTITY])).rows[0].id as number;
  const chunks = function* () {
    for (let start = 1; start <= rows; start += BATCH) {
      const data = new CopyData();
      for (let i = start; i < start + BATCH && i <= rows; i++) {
        const p = pairOf(i);
        data.field(String(scope));
        data.field(p.sourceKey);
        data.field(p.targetKey);
        data.field(p.sourceHash);
        data.field(p.targetHash);
        data.field(p.sourceCursor, true);
      }
      yield data.toBuffer();
    }
  };
  const columns = 'scope, source_key, target_key, source_hash, target_hash, source_cursor';
  await pipeline(Readable.from(chunks()), state.client.query(copyFrom(`COPY ferry.pairs (${columns}) FROM STDIN`)));
}

async function writeBatches(state: StateConnection, rows: number, variant: Variant): Promise<void> {
  const runState = new RunState(state.client, FLOW, 'bench-run');
  const pairs = new PairStore(state.client, FLOW, ENTITY);
  await state.client.query(`INSERT INTO ferry.runs (id, flow, mode, status) VALUES ('bench-run', $1, 'Full', 'running')`, [FLOW]);
  let open: number[] = [];
  let group: number[] = [];
  let batch = 0;
  for (let start = 1; start <= rows; start += BATCH, batch++) {
    const writes: PairWrite[] = [];
    for (let i = start; i < start + BATCH && i <= rows; i++) writes.push(pairOf(i));
    const lastOfGroup = batch % GROUP === GROUP - 1 || start + BATCH > rows;
    if (variant === 'nomarker') await state.begin();
    else group.push(await runState.beginWithInflight(ENTITY, writes.map((w) => w.sourceKey), open));
    open = [];
    if (variant !== 'markers') await pairs.insertNew(writes);
    if (lastOfGroup) await state.commit();
    else await state.commitUnflushed();
    if (lastOfGroup) {
      // The group's target commit is done: its markers are cleared with the next batch's.
      open = group;
      group = [];
    }
  }
  if (open.length > 0) await runState.endInflight(open);
}

async function measure(serverUrl: string, postmaster: number, variant: Variant, rows: number, round: number, setup?: string): Promise<void> {
  const database = `state_cpu_${variant}_${round}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.end();
  const url = await ensureDatabase(serverUrl, database);
  const store = await openStateStore(url);
  if (setup) await store.pool.query(setup);
  await store.close();
  const state = await StateConnection.open(url);
  try {
    const pid = Number((await state.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    await state.client.query('CHECKPOINT');
    const load = loadavg()[0]!;
    const walAt = async () => (await state.client.query('SELECT pg_current_wal_insert_lsn() AS lsn')).rows[0].lsn as string;
    const wal0 = await walAt();
    const [backend0, others0, started] = [cpuSeconds(pid), serverOthersCpu(postmaster, pid), performance.now()];
    if (variant === 'copy') await writeCopy(state, rows);
    else await writeBatches(state, rows, variant);
    const [backend1, others1, wall] = [cpuSeconds(pid), serverOthersCpu(postmaster, pid), (performance.now() - started) / 1000];
    const { rows: bytes } = await state.client.query(
      `SELECT pg_wal_lsn_diff($1, $2)::bigint AS wal, pg_table_size('ferry.pairs') AS heap, pg_indexes_size('ferry.pairs') AS indexes`,
      [await walAt(), wal0],
    );
    const mb = (n: string) => (Number(n) / 1048576).toFixed(0);
    const analyzing = cpuSeconds(pid);
    await state.client.query('ANALYZE ferry.pairs');
    const analyze = cpuSeconds(pid) - analyzing;
    // The category counts every run ends with (two-way-pairs.ts), best of three.
    let counts = Infinity;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await categoryCounts(state.client, FLOW);
      counts = Math.min(counts, (performance.now() - started) / 1000);
    }
    const count = Number((await state.client.query('SELECT count(*) AS n FROM ferry.pairs')).rows[0].n);
    const expected = variant === 'markers' ? 0 : rows;
    if (count !== expected) throw new Error(`${variant}: ${count} pairs, expected ${expected}`);
    console.log(
      `${variant.padEnd(9)} backend CPU ${(backend1 - backend0).toFixed(2)} s, server's other processes ${(others1 - others0).toFixed(2)} s, wall ${wall.toFixed(1)} s, WAL ${mb(bytes[0].wal)} MB, heap ${mb(bytes[0].heap)} MB, indexes ${mb(bytes[0].indexes)} MB; then ANALYZE ferry.pairs ${analyze.toFixed(2)} s, category counts ${counts.toFixed(2)} s (backend pid ${pid}, load ${load.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)})`,
    );
  } finally {
    await state.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, variants: { type: 'string', default: VARIANTS.join(',') }, repeat: { type: 'string', default: '1' }, setup: { type: 'string' } } });
  const rows = Number(values.rows);
  const variants = values.variants.split(',') as Variant[];
  for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`unknown variant ${v} (${VARIANTS.join(', ')})`);
  const server = await startEmbeddedPostgres({ persistent: false });
  try {
    const postmaster = postmasterOf(server.dataDir);
    for (let round = 0; round < Number(values.repeat); round++) {
      for (const variant of variants) await measure(server.url, postmaster, variant, rows, round, values.setup);
    }
  } finally {
    await server.stop();
  }
}

await main();
