/**
 * Row v: `ferry validate --offline` on a large manifest (200 entities x 500 fields, about 4 MB of
 * YAML): CPU time (user + system, so a loaded machine does not inflate it) and peak RSS of the
 * child process from /usr/bin/time, against a one-entity manifest (start-up alone), and the same
 * for a manifest half the size, so the growth from one to the other shows whether it is linear.
 * `npx tsx bench/manifest-validation.ts` runs this row alone; FERRY_BIN=<path of bin/ferry.mjs>
 * measures another checkout (e.g. a worktree of an older commit).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { row, type ResultRow } from './results.js';

const FERRY = process.env.FERRY_BIN ?? join(import.meta.dirname, '..', 'bin', 'ferry.mjs');

/** A valid SyncFlow with `entities` entities of `fields` fields each (one flow mapping per field line), and its two Secrets. */
export function largeManifest(entities: number, fields: number): string {
  const lines = ['apiVersion: ferry.dev/v1alpha1', 'kind: SyncFlow', 'metadata:', '  name: large', 'spec:'];
  lines.push('  source:', '    postgres:', '      secretRef: { name: source }', '  target:', '    postgres:', '      secretRef: { name: target }', '  entities:');
  for (let e = 0; e < entities; e++) {
    lines.push(`    - name: entity_${e}`, `      source: { table: source_table_${e}, keys: [id], updatedAt: updated_at }`, `      target: { table: target_table_${e}, keys: [id] }`);
    lines.push('      actions: [link, createInTarget, updateTarget]', '      fields:');
    for (let f = 0; f < fields; f++) lines.push(`        - { source: c${f}, target: c${f} }`);
  }
  const secret = (name: string) => ['---', 'apiVersion: v1', 'kind: Secret', 'metadata:', `  name: ${name}`, 'stringData:', `  url: postgres://ferry@127.0.0.1:1/${name}`];
  return [...lines, ...secret('source'), ...secret('target'), ''].join('\n');
}

export interface ValidateRun {
  bytes: number;
  cpuSeconds: number;
  wallSeconds: number;
  maxRssMb: number;
  exitCode: number | null;
}

/** `ferry validate -f` of a generated manifest in a child process, timed by /usr/bin/time. */
export function timeValidate(entities: number, fields: number): ValidateRun {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-manifest-'));
  try {
    const text = largeManifest(entities, fields);
    const file = join(dir, 'flow.yaml');
    writeFileSync(file, text);
    const result = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, FERRY, 'validate', '--offline', '-f', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const match = /TIME (\S+) (\S+) (\S+) (\d+)/.exec(result.stderr);
    if (!match) throw new Error(`no timing from /usr/bin/time: ${result.stderr.slice(-500)}`);
    const [wall, user, system, rssKb] = match.slice(1).map(Number);
    return { bytes: Buffer.byteLength(text), cpuSeconds: user! + system!, wallSeconds: wall!, maxRssMb: rssKb! / 1024, exitCode: result.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function manifestValidationRows(log: (line: string) => void): ResultRow[] {
  const tiny = timeValidate(1, 5);
  const half = timeValidate(100, 500);
  const full = timeValidate(200, 500);
  for (const [label, run] of [['1 x 5', tiny], ['100 x 500', half], ['200 x 500', full]] as const) {
    log(`  ferry validate ${label}: ${(run.bytes / 1e6).toFixed(1)} MB, CPU ${run.cpuSeconds.toFixed(1)} s (wall ${run.wallSeconds.toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)}), peak RSS ${run.maxRssMb.toFixed(0)} MB, exit ${run.exitCode}`);
  }
  const work = (run: ValidateRun) => Math.max(0.01, run.cpuSeconds - tiny.cpuSeconds);
  return [
    row('v. ferry validate 200 x 500 fields (4 MB): CPU s (baseline: a 1-entity manifest)', full.cpuSeconds, 's', tiny.cpuSeconds, '<= +3 s'),
    row('v. its peak RSS (baseline: a 1-entity manifest)', full.maxRssMb, 'MB', tiny.maxRssMb, '<= +150 MB'),
    row('v. CPU beyond start-up, 200 vs 100 entities', work(full), 's', work(half), 'about 2x (noise when under 1 s)'),
    row('v. exit code (0 = valid)', full.exitCode ?? -1, '', null, '== 0'),
  ];
}

if (process.argv[1] === import.meta.filename) {
  for (const r of manifestValidationRows((line) => process.stderr.write(line + '\n'))) console.log(JSON.stringify(r));
}
