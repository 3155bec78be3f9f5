/**
 * Files-import benchmark: a CSV snapshot of N employees, gzip-compressed and encrypted + signed by
 * GnuPG, imported over SFTP from OpenSSH's sshd on loopback (internal-sftp, as in the interop
 * tests; needs root and openssh-server) into PostgreSQL by the files source, against the baseline
 * `sftp get` + `gpg --decrypt | gunzip | psql \copy FROM STDIN` in the same run. Ferry runs as
 * `ferry run -f` (compiled, as the other rows; --runner tsx runs the working tree's source) with the
 * SyncFlow, ExportTarget and Secrets as manifests; its peak RSS is the child's VmHWM. A second
 * Incremental run with no new file must read nothing (only the directory listing). Day 2: a newer
 * snapshot file holds every record again, with ~1% changed, ~0.5% removed and ~0.5% added; a Full run
 * must write just those (created/updated/deleted as planted, no other target row touched), against
 * two baselines: the plain reload (`\copy` of the whole file into an empty table) and a `\copy` into
 * a temporary table then MERGE + DELETE into yesterday's table (what a hand-written sync costs).
 *
 *   npx tsx bench/files-import.ts [--rows N] [--runner dist|tsx] [--ref REF] [--first-import-only]
 *   (FERRY_NODE_OPTIONS-style profiling: BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR";
 *   BENCH_PADDED_KEYS=1: zero-padded employee numbers, so both days' files come in key order)
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { SyncFlowSpec } from '../src/api/syncflow.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { startSshd } from '../test/integration/export/system-servers.js';
import { sqlRows } from '../test/helpers/mini-flow.js';
import { BackendCpu, postmasterOf } from './backend-cpu.js';
import { measureStateFloor } from './files-floor.js';
import { prepareEngine, runFerry, type Runner } from './ferry-process.js';
import { printRows, row, type ResultRow } from './results.js';

const FILE = 'employees-20261130.csv.gz.pgp';
/** Day 2's snapshot: a newer name, so the Full run after it takes it as the table. */
const FILE_DAY2 = 'employees-20261201.csv.gz.pgp';
const COLUMNS = ['employee_no', 'name', 'email', 'city', 'salary', 'born'];
const TABLE_SQL = (table: string) =>
  `CREATE TABLE ${table} (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, email text, city text, salary numeric(10,2), born date)`;

function flowSpec(): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: {
      files: {
        exportTargetRef: { name: 'partner' },
        decryption: { secretRef: { name: 'pgp' }, verify: { secretRef: { name: 'signer' } } },
        // The baseline does not wait for the file to settle either.
        settleSeconds: 0,
      },
    },
    target: { postgres: { secretRef: { name: 'dst' } } },
    entities: [
      {
        name: 'employees',
        source: {
          table: 'employees',
          keys: ['employee_no'],
          file: { pattern: 'employees-*.csv.gz.pgp', contents: 'Snapshot', columns: [{ name: 'salary', type: 'Decimal' }, { name: 'born', type: 'Date' }] },
        },
        target: { table: 'staff', keys: ['id'] },
        fields: COLUMNS.map((c) => ({ source: c, target: c })),
        actions: ['createInTarget', 'updateTarget', 'deleteInTarget'],
      },
    ],
  } as SyncFlowSpec;
}

/** The manifests `ferry run -f` reads: the SyncFlow, the ExportTarget of the SFTP server, the Secrets. */
const TARGET_DATABASE = 'files_import_target';
const STATE_DATABASE = 'ferry_state_files';

function writeManifests(dir: string, sftp: { port: number; hostKey: string; user: string; key: string; directory: string }, keys: { privateKey: string; publicKey: string }, targetUrl: string): string {
  mkdirSync(dir, { recursive: true });
  const secret = (name: string, stringData: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData });
  const documents = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'files-import' }, spec: flowSpec() },
    {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'partner' },
      spec: { protocol: 'SFTP', host: '127.0.0.1', port: sftp.port, directory: sftp.directory, credentialsSecretRef: { name: 'creds' }, sftp: { hostKey: sftp.hostKey } },
    },
    secret('creds', { username: sftp.user, privateKey: sftp.key }),
    secret('pgp', { privateKey: keys.privateKey }),
    secret('signer', { publicKey: keys.publicKey }),
    secret('dst', { url: targetUrl }),
  ];
  writeFileSync(join(dir, 'flow.yaml'), documents.map((d) => stringify(d)).join('---\n'));
  return dir;
}

/** Day 2's planted changes among rows 1..N: 1% changed, 0.5% removed, then 0.5% added after row N. */
const day2 = {
  changed: (i: number) => i % 100 === 7,
  removed: (i: number) => i % 200 === 13,
  added: (rows: number) => Math.max(1, Math.round(rows / 200)),
  count(rows: number, planted: (i: number) => boolean): number {
    let n = 0;
    for (let i = 1; i <= rows; i++) if (planted(i)) n++;
    return n;
  },
};

/** One employee line; a changed one (day 2) has a new name and salary. */
function csvLine(i: number, changed: boolean): string {
  const day = String((i % 28) + 1).padStart(2, '0');
  const name = changed ? `"Person ${i}, Sr."` : `"Person ${i}, Jr."`;
  const salary = (2000 + (i % 3000) / 7 + (changed ? 100 : 0)).toFixed(2);
  // BENCH_PADDED_KEYS=1: E00000001…, a file in key order (text keys sort as the state DB's collation "C" does).
  const key = process.env.BENCH_PADDED_KEYS ? String(i).padStart(8, '0') : String(i);
  return `E${key},${name},person${i}@example.org,City ${i % 500},${salary},19${50 + (i % 50)}-0${(i % 9) + 1}-${day}\n`;
}

/** Writes the employees CSV (header row, ISO dates, decimal point), streamed; `secondDay` plants day 2's changes. */
async function writeCsv(path: string, rows: number, secondDay = false): Promise<void> {
  const out = createWriteStream(path);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await write(`${COLUMNS.join(',')}\n`);
  let chunk = '';
  const last = secondDay ? rows + day2.added(rows) : rows;
  for (let i = 1; i <= last; i++) {
    if (secondDay && i <= rows && day2.removed(i)) continue;
    chunk += csvLine(i, secondDay && i <= rows && day2.changed(i));
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** The baseline's download: `sftp get` of `file` to $LOCAL. */
const sftpGet = (file: string) =>
  `sftp -q -b - -i "$SSH_KEY" -P "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes "$SSH_USER@127.0.0.1" <<< "get $REMOTE/${file} $LOCAL" >/dev/null`;

/** `sftp get` then `gpg --decrypt | gunzip | psql` (`load`: the psql arguments that read the CSV on stdin), timed. */
function runBaseline(env: Record<string, string>, file: string, load: string): number {
  const script = [
    'set -euo pipefail',
    sftpGet(file),
    `gpg --homedir "$GNUPGHOME" --batch --quiet --decrypt "$LOCAL" 2>/dev/null | gunzip | psql "$URL" -X -q -v ON_ERROR_STOP=1 ${load}`,
  ].join('\n');
  const started = performance.now();
  execFileSync('bash', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  return performance.now() - started;
}

/** The plain reload: `\copy` of the whole file into `table` (empty). */
const copyInto = (table: string) => `-c "\\copy ${table} (${COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER)"`;

/** A hand-written sync of day 2 into `table` (yesterday's rows): `\copy` into a temporary table, MERGE the changed and new rows, DELETE the gone ones. */
function mergeScript(path: string, table: string): string {
  const columns = COLUMNS.join(', ');
  const values = COLUMNS.map((c) => `s.${c}`).join(', ');
  const set = COLUMNS.filter((c) => c !== 'employee_no').map((c) => `${c} = s.${c}`).join(', ');
  const differs = `(${COLUMNS.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${values})`;
  writeFileSync(
    path,
    [
      `CREATE TEMPORARY TABLE day (LIKE ${table} INCLUDING DEFAULTS);`,
      `\\copy day (${columns}) FROM pstdin WITH (FORMAT csv, HEADER)`,
      'BEGIN;',
      `MERGE INTO ${table} t USING day s ON t.employee_no = s.employee_no WHEN MATCHED AND ${differs} THEN UPDATE SET ${set} WHEN NOT MATCHED THEN INSERT (${columns}) VALUES (${values});`,
      `DELETE FROM ${table} t WHERE NOT EXISTS (SELECT 1 FROM day s WHERE s.employee_no = t.employee_no);`,
      'COMMIT;',
    ].join('\n') + '\n',
  );
  return `-f "${path}"`;
}

/** Rows of `a` not in `b` plus rows of `b` not in `a`, over the file's columns. */
async function rowsDiffering(url: string, a: string, b: string): Promise<number> {
  const columns = COLUMNS.join(', ');
  const [{ differ }] = await sqlRows(
    url,
    `SELECT (SELECT count(*) FROM (SELECT ${columns} FROM ${a} EXCEPT SELECT ${columns} FROM ${b}) x) + (SELECT count(*) FROM (SELECT ${columns} FROM ${b} EXCEPT SELECT ${columns} FROM ${a}) y) AS differ`,
  );
  return Number(differ);
}

/** Encrypts and signs a gzipped CSV into the SFTP directory (not timed). */
function encryptInto(csv: string, gnupgHome: string, out: string): void {
  execFileSync('bash', ['-c', 'set -o pipefail; gzip -c "$CSV" | gpg --homedir "$GNUPGHOME" --batch --yes --trust-model always --encrypt --sign -r bench@example.org > "$OUT"'], {
    env: { ...process.env, CSV: csv, GNUPGHOME: gnupgHome, OUT: out },
  });
}

/** Runs the files-import benchmark and returns its rows for bench/results.json. */
export async function filesImportBenchRows(options: { rows: number; runner?: Runner; ref?: string; firstImportOnly?: boolean; log?: (line: string) => void }): Promise<ResultRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-files-'));
  const gnupgHome = join(work, 'gnupg');
  mkdirSync(gnupgHome, { mode: 0o700 });
  const engine = prepareEngine(options.runner ?? 'dist', options.ref);
  const server = await startEmbeddedPostgres({ persistent: false });
  const sshd = await startSshd();
  writeFileSync(join(work, 'ssh-key'), sshd.clientPrivateKey, { mode: 0o600 });
  try {
    const targetUrl = await ensureDatabase(server.url, TARGET_DATABASE);
    const stateUrl = await ensureDatabase(server.url, STATE_DATABASE);
    await sqlRows(targetUrl, `${TABLE_SQL('staff')}; ${TABLE_SQL('staff_baseline')}; ${TABLE_SQL('staff_merge')}`);

    log(`files bench: writing ${options.rows} rows, gzip and gpg --encrypt --sign (not timed)...`);
    const gpg = (...args: string[]) => execFileSync('gpg', ['--homedir', gnupgHome, '--batch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    gpg('--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Bench <bench@example.org>', 'future-default', 'default', 'never');
    const publicKey = gpg('--armor', '--export', 'bench@example.org').toString();
    const privateKey = gpg('--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--export-secret-keys', 'bench@example.org').toString();
    const csv = join(work, 'employees.csv');
    await writeCsv(csv, options.rows);
    encryptInto(csv, gnupgHome, join(sshd.uploadDir, FILE));
    rmSync(csv);

    log('files bench: baseline sftp get + gpg --decrypt | gunzip | psql \\copy...');
    const baselineEnv = {
      SSH_KEY: join(work, 'ssh-key'),
      SSH_USER: sshd.user,
      PORT: String(sshd.port),
      REMOTE: sshd.uploadDir,
      GNUPGHOME: gnupgHome,
      LOCAL: join(work, 'baseline.pgp'),
      URL: targetUrl,
    };
    const baselineMs = runBaseline(baselineEnv, FILE, copyInto('staff_baseline'));

    log('files bench: ferry Full import...');
    const manifests = writeManifests(join(work, 'manifests'), { port: sshd.port, hostKey: sshd.hostKey, user: sshd.user, key: sshd.clientPrivateKey, directory: sshd.uploadDir }, { privateKey, publicKey }, targetUrl);
    const ferry = (mode: 'Full' | 'Incremental') => runFerry(engine, { manifests, mode, stateUrl, log: join(work, `${mode}.log`), nodeArgs: childNodeArgs() });
    const backends = new BackendCpu(postmasterOf(server.dataDir));
    const full = await ferry('Full');
    const backendCpu = backends.stop();
    const [targetCpu, stateCpu] = [backendCpu.get(TARGET_DATABASE) ?? 0, backendCpu.get(STATE_DATABASE) ?? 0];
    const totals = full.report.totals;
    log(`files bench: ${totals.read} rows read, ${totals.created} created, ${totals.rejected} rejected in ${(full.wallMs / 1000).toFixed(1)} s (start-up ${(full.startupMs / 1000).toFixed(1)} s, CPU ${(full.cpuMs / 1000).toFixed(1)} s; baseline ${(baselineMs / 1000).toFixed(1)} s), peak RSS ${full.peakRssMb.toFixed(0)} MB, load ${loadavg()[0]!.toFixed(1)}`);
    log(`files bench: backends' CPU over Ferry's run: target ${targetCpu.toFixed(1)} s, state ${stateCpu.toFixed(1)} s; Ferry's CPU ${(full.cpuMs / 1000 / targetCpu).toFixed(2)}x the target backend's`);
    const differ = await rowsDiffering(targetUrl, 'staff', 'staff_baseline');
    if (totals.created !== options.rows || totals.rejected !== 0 || differ !== 0) {
      throw new Error(`files bench: Ferry created ${totals.created} of ${options.rows} rows (${totals.rejected} rejected), ${differ} rows differ from the baseline's`);
    }

    const label = options.rows >= 1000 ? `${Math.round(options.rows / 1000)}k` : String(options.rows);
    const firstImportRows = [
      row(`files import ${label} rows: CSV+gzip+PGP over SFTP into PostgreSQL (s)`, full.wallMs / 1000, 's', baselineMs / 1000, '<= 1.5x sftp get + gpg|gunzip|psql \\copy'),
      row(`files import ${label} rows: peak RSS`, full.peakRssMb, 'MB', null, '<= 300 MB'),
      row(`files import ${label} rows: Ferry's CPU per target backend CPU`, full.cpuMs / 1000 / targetCpu, 'x', null, 'context: moves less with the machine than wall time'),
    ];
    // A quicker loop while working on the first import: no second run, state floor or day 2.
    if (options.firstImportOnly) return firstImportRows;

    log('files bench: second run, no new file...');
    const again = await ferry('Incremental');
    log(`files bench: second run read ${again.report.totals.read} rows in ${(again.wallMs / 1000).toFixed(1)} s (start-up ${(again.startupMs / 1000).toFixed(1)} s, CPU ${(again.cpuMs / 1000).toFixed(1)} s), peak RSS ${again.peakRssMb.toFixed(0)} MB`);
    if (again.report.totals.read !== 0) throw new Error(`files bench: the run without a new file read ${again.report.totals.read} rows`);

    log('files bench: state floor (the baseline while Ferry\'s pairs load alongside)...');
    const floorS = await measureStateFloor({ download: sftpGet(FILE), env: baselineEnv, columns: COLUMNS, tableSql: TABLE_SQL, targetUrl, stateUrl, work });
    log(`files bench: state floor ${floorS.toFixed(1)} s (${(floorS / (baselineMs / 1000)).toFixed(2)}x the baseline)`);

    const day2Run = await secondDay({ rows: options.rows, work, gnupgHome, uploadDir: sshd.uploadDir, targetUrl, baselineEnv, ferry: () => ferry('Full'), log });

    return [
      ...firstImportRows,
      row(`files import ${label} rows: the state floor (s)`, floorS, 's', baselineMs / 1000, "context: the baseline with Ferry's pairs loaded alongside by psql \\copy"),
      row(`files import ${label} rows: Ferry against the state floor (s)`, full.wallMs / 1000, 's', floorS, 'context: what Ferry adds to the least a tool keeping per-record state can take'),
      row(`files import: second run, no new file (s)`, again.wallMs / 1000, 's', null, 'listing only (0 rows read)'),
      row(`files import day 2, ${label} rows (1% changed, 0.5% removed, 0.5% added), Full (s)`, day2Run.wallMs / 1000, 's', day2Run.reloadMs / 1000, 'context: the same file reloaded into an empty table (sftp get + gpg|gunzip|psql \\copy)'),
      row(`files import day 2, ${label} rows: against \\copy + MERGE + DELETE (s)`, day2Run.wallMs / 1000, 's', day2Run.mergeMs / 1000, 'context: a hand-written sync into yesterday\'s table'),
      row(`files import day 2, ${label} rows: peak RSS`, day2Run.peakRssMb, 'MB', null, '<= 300 MB'),
    ];
  } finally {
    await sshd.close();
    await server.stop();
    engine.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Day 2: a newer snapshot with the planted changes, imported by a Full run; checks that the target
 * equals the file, that the counters are the planted ones, and that no other target row was written
 * (rows whose xmin is newer than the run's start are exactly the created and updated ones).
 */
async function secondDay(options: {
  rows: number;
  work: string;
  gnupgHome: string;
  uploadDir: string;
  targetUrl: string;
  baselineEnv: Record<string, string>;
  ferry: () => ReturnType<typeof runFerry>;
  log: (line: string) => void;
}): Promise<{ wallMs: number; reloadMs: number; mergeMs: number; peakRssMb: number }> {
  const { rows, targetUrl, log } = options;
  const planted = { updated: day2.count(rows, day2.changed), deleted: day2.count(rows, day2.removed), created: day2.added(rows) };
  log(`files bench: day 2, writing ${rows} rows again (${planted.updated} changed, ${planted.deleted} removed, ${planted.created} added; not timed)...`);
  const csv = join(options.work, 'employees-day2.csv');
  await writeCsv(csv, rows, true);
  encryptInto(csv, options.gnupgHome, join(options.uploadDir, FILE_DAY2));
  rmSync(csv);
  // Yesterday's table for the MERGE baseline: a copy of the day-1 reload (not timed).
  await sqlRows(targetUrl, `INSERT INTO staff_merge SELECT * FROM staff_baseline; ANALYZE staff_merge; TRUNCATE staff_baseline`);

  log('files bench: day 2 baselines: plain reload, then \\copy + MERGE + DELETE...');
  const reloadMs = runBaseline(options.baselineEnv, FILE_DAY2, copyInto('staff_baseline'));
  const mergeMs = runBaseline(options.baselineEnv, FILE_DAY2, mergeScript(join(options.work, 'merge.sql'), 'staff_merge'));

  log('files bench: day 2, ferry Full...');
  const [{ xid }] = await sqlRows(targetUrl, `SELECT (pg_current_xact_id()::text::bigint % 4294967296) AS xid`);
  const run = await options.ferry();
  const totals = run.report.totals;
  log(
    `files bench: day 2 read ${totals.read}, created ${totals.created}, updated ${totals.updated}, deleted ${totals.deleted}, unchanged ${totals.unchanged} in ${(run.wallMs / 1000).toFixed(1)} s (start-up ${(run.startupMs / 1000).toFixed(1)} s, CPU ${(run.cpuMs / 1000).toFixed(1)} s; reload ${(reloadMs / 1000).toFixed(1)} s, merge ${(mergeMs / 1000).toFixed(1)} s), peak RSS ${run.peakRssMb.toFixed(0)} MB, load ${loadavg()[0]!.toFixed(1)}`,
  );
  const [{ written }] = await sqlRows(targetUrl, `SELECT count(*) AS written FROM staff WHERE xmin::text::bigint >= ${Number(xid)}`);
  const problems = [
    ...(['created', 'updated', 'deleted'] as const).filter((k) => totals[k] !== planted[k]).map((k) => `${k} ${totals[k]}, planted ${planted[k]}`),
    ...(totals.rejected !== 0 ? [`${totals.rejected} rejected`] : []),
    ...(totals.unchanged !== rows - planted.updated - planted.deleted ? [`${totals.unchanged} unchanged of ${rows - planted.updated - planted.deleted}`] : []),
    ...(Number(written) !== planted.created + planted.updated ? [`${written} target rows written, ${planted.created + planted.updated} planted`] : []),
  ];
  const differ = await rowsDiffering(targetUrl, 'staff', 'staff_baseline');
  const mergeDiffer = await rowsDiffering(targetUrl, 'staff_merge', 'staff_baseline');
  if (differ !== 0) problems.push(`${differ} rows differ from the file's`);
  if (mergeDiffer !== 0) problems.push(`the MERGE baseline left ${mergeDiffer} rows differing from the file's`);
  if (problems.length > 0) throw new Error(`files bench: day 2: ${problems.join('; ')}`);
  return { wallMs: run.wallMs, reloadMs, mergeMs, peakRssMb: run.peakRssMb };
}

/** Extra node flags for the Ferry child, e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
const childNodeArgs = () => (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '1000000' }, runner: { type: 'string', default: 'dist' }, ref: { type: 'string' }, 'first-import-only': { type: 'boolean', default: false } },
  });
  if (values.runner !== 'dist' && values.runner !== 'tsx') throw new Error(`--runner is dist or tsx, got ${values.runner}`);
  printRows(await filesImportBenchRows({ rows: Number(values.rows.replace(/_/g, '')), runner: values.runner, firstImportOnly: values['first-import-only'], ...(values.ref ? { ref: values.ref } : {}) }));
  process.exit(0);
}
