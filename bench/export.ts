/**
 * Export benchmark: demo people as CSV, gzip and OpenPGP-encrypted, archived and delivered over SFTP
 * on loopback, against the baseline `psql \copy (...) TO STDOUT | gzip | gpg --encrypt > file` in the
 * same run. Ferry runs in a child process so its peak RSS is its own; the SFTP server (the "remote
 * side") runs in this process. When `mariadbd` is installed, the same people are copied into MariaDB
 * (not timed) and exported from there too, against `mariadb -B -e 'SELECT ...' | gzip | gpg`.
 *
 *   npx tsx bench/export.ts [--people N] [--no-mariadb]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { SyncFlowSpec } from '../src/api/syncflow.js';
import { generateAssociation } from '../src/demo/index.js';
import { startLoopbackSftp } from '../src/export/loopback/sftp-server.js';
import { runExport } from '../src/export/run-export.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { startEmbeddedPostgres } from '../src/util/embedded-postgres.js';
import { MARIADBD, mariadbInstalled, startMariaDb } from '../test/helpers/mariadb-server.js';
import { copyAssociationToMaria, mariadbClient } from './mariadb.js';
import { printRows, row, type ResultRow } from './results.js';

const COLUMNS = ['id', 'first_name', 'last_name', 'email', 'phone', 'birth_date', 'member_status', 'member_since', 'address_line', 'postal_code', 'city_id', 'firm_id', 'updated_at'];

interface ChildConfig {
  sourceKind: 'postgres' | 'mysql';
  sourceUrl: string;
  stateUrl: string;
  sftpPort: number;
  hostKey: string;
  publicKey: string;
}

interface ChildResult {
  wallMs: number;
  maxRssMb: number;
  /** Highest sampled V8 heap and Buffer memory: flat when nothing holds the file in memory. */
  maxHeapMb: number;
  maxBuffersMb: number;
  bytes: number;
  rows: number;
  result: string;
}

function flowSpec(sourceKind: ChildConfig['sourceKind']): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { [sourceKind]: { secretRef: { name: 'src' } } },
    target: {
      export: {
        format: 'Csv',
        mode: 'Snapshot',
        compression: 'Gzip',
        encryption: { recipients: [{ secretRef: { name: 'pgp' } }] },
        fileNameTemplate: 'people',
        targets: [{ name: 'sftp' }],
      },
    },
    entities: [
      {
        name: 'people',
        source: { table: 'people', keys: ['id'] },
        target: { table: 'people', keys: ['id'] },
        fields: COLUMNS.map((c) => ({ source: c, target: c })),
      },
    ],
  } as SyncFlowSpec;
}

/** The Ferry side, in its own process. */
async function child(config: ChildConfig): Promise<void> {
  const started = performance.now();
  let maxHeap = 0;
  let maxBuffers = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    maxHeap = Math.max(maxHeap, m.heapUsed);
    maxBuffers = Math.max(maxBuffers, m.arrayBuffers);
  }, 100);
  const { report, failure } = await runExport({
    flowId: 'bench/export',
    spec: flowSpec(config.sourceKind),
    mode: 'Full',
    sourceUrl: config.sourceUrl,
    stateUrl: config.stateUrl,
    logger: pino({ level: 'warn' }),
    export: {
      targets: { sftp: { protocol: 'SFTP', host: '127.0.0.1', port: config.sftpPort, credentialsSecretRef: { name: 'creds' }, sftp: { hostKey: config.hostKey } } },
      secrets: { creds: { username: 'bench', password: 'bench' }, pgp: { publicKey: config.publicKey } },
    },
  });
  clearInterval(sampler);
  if (failure) throw failure;
  const result: ChildResult = {
    wallMs: performance.now() - started,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    maxHeapMb: maxHeap / 1024 / 1024,
    maxBuffersMb: maxBuffers / 1024 / 1024,
    bytes: report.export.files[0].bytes,
    rows: report.export.files[0].rows,
    result: report.export.result,
  };
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

function runChild(config: ChildConfig): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`ferry export child failed (${code}): ${out}`));
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)));
    });
  });
}

const PEOPLE_QUERY = `SELECT ${COLUMNS.join(', ')} FROM people ORDER BY id`;

/** `<dump> | gzip | gpg --encrypt > OUT`, timed. */
function runPipeline(dump: string, env: Record<string, string>, gnupgHome: string, out: string): { wallMs: number; bytes: number } {
  const script = `set -euo pipefail; ${dump} | gzip | gpg --homedir "$GNUPGHOME" --batch --yes --trust-model always --encrypt -r bench@example.org > "$OUT"`;
  const started = performance.now();
  execFileSync('bash', ['-c', script], { env: { ...process.env, ...env, GNUPGHOME: gnupgHome, OUT: out }, stdio: ['ignore', 'inherit', 'inherit'] });
  return { wallMs: performance.now() - started, bytes: statSync(out).size };
}

function runBaseline(sourceUrl: string, gnupgHome: string, out: string): { wallMs: number; bytes: number } {
  return runPipeline(`psql "$URL" -X -q -c "\\copy (${PEOPLE_QUERY}) TO STDOUT WITH (FORMAT csv, HEADER)"`, { URL: sourceUrl }, gnupgHome, out);
}

function runMariaBaseline(mariaUrl: string, gnupgHome: string, out: string): { wallMs: number; bytes: number } {
  const client = mariadbClient(mariaUrl);
  return runPipeline(`mariadb ${client.args} --batch --quick -e "${PEOPLE_QUERY}"`, client.env, gnupgHome, out);
}

/** Runs the export benchmark and returns its rows for bench/results.json. */
export async function exportBenchRows(options: { people: number; mariadb?: boolean; log?: (line: string) => void }): Promise<ResultRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-export-'));
  const server = await startEmbeddedPostgres({ persistent: false });
  const sftpRoot = join(work, 'sftp');
  mkdirSync(sftpRoot);
  const sftp = await startLoopbackSftp({ root: sftpRoot, username: 'bench', password: 'bench' });
  try {
    const sourceUrl = await ensureDatabase(server.url, 'association_export');
    const stateUrl = await ensureDatabase(server.url, 'ferry_state_export');
    log(`export bench: generating ${options.people} people...`);
    await generateAssociation(sourceUrl, { people: options.people });
    const gnupgHome = join(work, 'gnupg');
    mkdirSync(gnupgHome, { mode: 0o700 });
    execFileSync('gpg', ['--homedir', gnupgHome, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Bench <bench@example.org>', 'future-default', 'default', 'never'], { stdio: 'pipe' });
    const publicKey = execFileSync('gpg', ['--homedir', gnupgHome, '--armor', '--export', 'bench@example.org']).toString();

    const label = options.people >= 1000 ? `${Math.round(options.people / 1000)}k` : String(options.people);
    // Both files must decrypt to the same number of lines (the CSV dialects differ: CRLF, "" for empty strings).
    const lines = (file: string) =>
      execFileSync('bash', ['-c', `set -o pipefail; gpg --homedir "$H" --batch --quiet --decrypt "$F" | gunzip | wc -l`], { env: { ...process.env, H: gnupgHome, F: file } })
        .toString()
        .trim();
    const measure = async (sourceKind: ChildConfig['sourceKind'], url: string, baseline: { wallMs: number; bytes: number }, baselineFile: string) => {
      for (const name of readdirSync(sftpRoot)) rmSync(join(sftpRoot, name), { force: true });
      log(`export bench: ferry export from ${sourceKind}...`);
      const ferry = await runChild({ sourceKind, sourceUrl: url, stateUrl, sftpPort: sftp.port, hostKey: sftp.hostKey, publicKey });
      const delivered = readdirSync(sftpRoot).filter((n) => !n.startsWith('.'));
      if (ferry.result !== 'AllTransferred' || delivered.length !== 1 || statSync(join(sftpRoot, delivered[0])).size !== ferry.bytes) {
        throw new Error(`export bench: delivery check failed (${ferry.result}, ${delivered.join(', ')})`);
      }
      const [ours, theirs] = [lines(join(sftpRoot, delivered[0])), lines(baselineFile)];
      log(`export bench (${sourceKind}): ${ferry.rows} rows, ferry ${(ferry.wallMs / 1000).toFixed(1)} s (${ferry.bytes} bytes), baseline ${(baseline.wallMs / 1000).toFixed(1)} s (${baseline.bytes} bytes), lines ${ours}/${theirs}, peak RSS ${ferry.maxRssMb.toFixed(0)} MB (heap ${ferry.maxHeapMb.toFixed(0)} MB, buffers ${ferry.maxBuffersMb.toFixed(0)} MB)`);
      if (ours !== theirs) throw new Error(`export bench: Ferry's file has ${ours} lines, the baseline's ${theirs}`);
      return ferry;
    };

    log('export bench: baseline psql | gzip | gpg...');
    const baselineFile = join(work, 'baseline.csv.gz.pgp');
    const baseline = runBaseline(sourceUrl, gnupgHome, baselineFile);
    const ferry = await measure('postgres', sourceUrl, baseline, baselineFile);
    const rows = [
      row(`export ${label} people: CSV+gzip+PGP, archived, over SFTP (s)`, ferry.wallMs / 1000, 's', baseline.wallMs / 1000, '<= 1.5x psql|gzip|gpg'),
      row(`export ${label} people: peak RSS`, ferry.maxRssMb, 'MB', null, '<= 300 MB'),
    ];
    if (options.mariadb === false) return rows;
    if (!mariadbInstalled()) {
      log(`export bench: ${MARIADBD} is not installed; skipping the MariaDB export rows (apt-get install mariadb-server mariadb-client)`);
      return rows;
    }
    const maria = await startMariaDb();
    try {
      log('export bench: copying the association into MariaDB (not timed)...');
      const mariaUrl = await copyAssociationToMaria(sourceUrl, maria.url, 'association_export');
      log('export bench: baseline mariadb -B | gzip | gpg...');
      const mariaBaselineFile = join(work, 'baseline-maria.tsv.gz.pgp');
      const mariaBaseline = runMariaBaseline(mariaUrl, gnupgHome, mariaBaselineFile);
      const fromMaria = await measure('mysql', mariaUrl, mariaBaseline, mariaBaselineFile);
      rows.push(
        row(`export ${label} people from MariaDB: CSV+gzip+PGP, archived, over SFTP (s)`, fromMaria.wallMs / 1000, 's', mariaBaseline.wallMs / 1000, '<= 1.5x mariadb -B|gzip|gpg'),
        row(`export ${label} people from MariaDB: peak RSS`, fromMaria.maxRssMb, 'MB', null, '<= 300 MB'),
      );
    } finally {
      await maria.stop();
    }
    return rows;
  } finally {
    await sftp.close();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { values } = parseArgs({ options: { people: { type: 'string', default: '100000' }, 'no-mariadb': { type: 'boolean' }, child: { type: 'string' } } });
  if (values.child) {
    await child(JSON.parse(values.child) as ChildConfig);
  } else {
    const rows = await exportBenchRows({ people: Number(values.people), mariadb: !values['no-mariadb'] });
    printRows(rows);
  }
}
