import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseManifests, type SyncFlow } from '../src/api/index.js';
import type { RunReport } from '../src/engine/report.js';
import { childrenOf, processCpuSeconds } from './proc.js';

export const REPO = join(import.meta.dirname, '..');
export const FLOW_FILE = join(REPO, 'examples', 'association', 'syncflow.yaml');

export type Runner = 'dist' | 'tsx';

/** Where `bin/ferry.mjs` lives for this bench run, and how to clean it up. */
export interface Engine {
  runner: Runner;
  cli: string;
  /** The example flow of the same tree as the engine (an older engine rejects newer fields). */
  flowFile: string;
  cleanup(): void;
}

/**
 * `dist`: compiles src/ with tsconfig.build.json into a private copy of the package under /tmp
 * (bin/ + dist/, with node_modules, drizzle/ and package.json linked, and no src/, so
 * bin/ferry.mjs runs the compiled code as in the container image); the working tree is left alone.
 * With `ref` (e.g. `HEAD`), the package files come from that commit (`git archive`) instead of the
 * working tree, so edits in progress by others do not end up in the measurement.
 * `tsx`: the working tree's bin/ferry.mjs as is, which runs src/ through tsx.
 */
export function prepareEngine(runner: Runner, ref?: string): Engine {
  if (runner === 'tsx') {
    return { runner, cli: join(REPO, 'bin', 'ferry.mjs'), flowFile: FLOW_FILE, cleanup: () => {} };
  }
  const root = mkdtempSync(join(tmpdir(), 'ferry-bench-pkg-'));
  const fail = (what: string, output: string): never => {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`${what} failed (use --runner tsx to run from source):\n${output}`);
  };
  let tree = REPO;
  if (ref) {
    tree = join(root, 'tree');
    mkdirSync(tree);
    const files = ['src', 'bin', 'drizzle', 'examples', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
    const archived = spawnSync('bash', ['-c', 'set -o pipefail; git -C "$REPO" archive "$REF" "$@" | tar -x -C "$TREE"', 'archive', ...files], {
      encoding: 'utf8',
      env: { ...process.env, REPO, REF: ref, TREE: tree },
    });
    if (archived.status !== 0) fail(`git archive ${ref}`, archived.stderr);
    symlinkSync(join(REPO, 'node_modules'), join(tree, 'node_modules'));
  }
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(tree, 'tsconfig.build.json'), '--outDir', join(root, 'dist')], {
    encoding: 'utf8',
  });
  if (built.status !== 0) fail(`compiling ${ref ?? 'the working tree'}'s src/`, built.stdout + built.stderr);
  cpSync(join(tree, 'bin'), join(root, 'bin'), { recursive: true });
  copyFileSync(join(tree, 'package.json'), join(root, 'package.json'));
  for (const dir of ['node_modules', 'drizzle', 'examples']) symlinkSync(join(tree, dir), join(root, dir));
  // As `npm run build`: the tree's bundle step, where it has one (bin/entry.mjs then runs dist/bundle/).
  const bundler = join(tree, 'scripts', 'bundle-dist.mjs');
  if (existsSync(bundler)) {
    const bundled = spawnSync(process.execPath, [bundler, join(root, 'dist')], { encoding: 'utf8' });
    if (bundled.status !== 0) fail(`bundling ${ref ?? 'the working tree'}'s dist/`, bundled.stdout + bundled.stderr);
  }
  return {
    runner,
    cli: join(root, 'bin', 'ferry.mjs'),
    flowFile: join(tree, 'examples', 'association', 'syncflow.yaml'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The example SyncFlow, read once so every step of a bench run syncs the same flow. */
export interface FlowSnapshot {
  text: string;
  flow: SyncFlow;
}

export function readFlow(file = FLOW_FILE): FlowSnapshot {
  const text = readFileSync(file, 'utf8');
  const flow = parseManifests(text, file).flows[0];
  if (!flow) throw new Error(`no SyncFlow in ${file}`);
  return { text, flow };
}

type SecretRef = { name: string; key?: string };

/**
 * The same flow with one or both sides on MariaDB (`mysql:` with the same secretRef, the database
 * named by the URL): the entities, mappings and actions are unchanged.
 */
export function onMariaDb(snapshot: FlowSnapshot, sides: ('source' | 'target')[]): FlowSnapshot {
  const doc = parse(snapshot.text) as { spec: Record<'source' | 'target', { postgres?: { secretRef: SecretRef } }> };
  for (const side of sides) {
    const { secretRef } = doc.spec[side].postgres!;
    doc.spec[side] = { mysql: { secretRef } } as (typeof doc.spec)[typeof side];
  }
  const text = stringify(doc);
  const flow = parseManifests(text, FLOW_FILE).flows[0];
  if (!flow) throw new Error('the MariaDB variant of the flow did not parse');
  return { text, flow };
}

/**
 * A manifest directory for `ferry run -f`: the SyncFlow plus a Secret per secretRef holding the
 * real URLs.
 */
export function writeManifests(dir: string, snapshot: FlowSnapshot, urls: { source: string; target: string }): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'syncflow.yaml'), snapshot.text);
  const { spec } = snapshot.flow;
  const refOf = (system: { postgres?: { secretRef: SecretRef }; mysql?: { secretRef: SecretRef } }) => (system.postgres ?? system.mysql)!.secretRef;
  const refs = [
    { ref: refOf(spec.source), url: urls.source },
    { ref: refOf(spec.target), url: urls.target },
  ];
  const secrets = refs.map(({ ref, url }) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ref.name },
    stringData: { [ref.key ?? 'url']: url },
  }));
  writeFileSync(join(dir, 'secrets.yaml'), secrets.map((s) => stringify(s)).join('---\n'));
  return dir;
}

export interface FerryRun {
  wallMs: number;
  /** The process tree's peak RSS: each process's VmHWM (/proc/<pid>/status), summed over the tree, in MB (2^20 bytes). */
  peakRssMb: number;
  /** User + system CPU time of the child (node) process, from /proc/<pid>/stat, as of the last sample. */
  cpuMs: number;
  /** Spawn -> the report's startedAt (node start-up, manifest validation, …), and completedAt -> exit. */
  startupMs: number;
  shutdownMs: number;
  report: RunReport;
}

function readHwmKb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // already exited
  }
}

/** A child process's wall time, peak RSS and CPU time (see runMeasured), with its output. */
export interface MeasuredRun {
  code: number | null;
  wallMs: number;
  peakRssMb: number;
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/** The process and its descendants (on Node 20 `ferry run` may relaunch itself in a child node with a heap limit). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

/**
 * Runs a command and samples its process tree every 25 ms: peak RSS is the sum over the tree of each
 * process's VmHWM (a launcher and the child it relaunched count together; an upper bound when their
 * peaks do not coincide), CPU the sum over the tree as of the last sample. A process that replaces
 * itself (execve, as `ferry run` does to set its heap limit) keeps its pid and starts a new VmHWM:
 * its peak is the higher of the two.
 */
export async function runMeasured(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<MeasuredRun> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let peakKb = 0;
  let cpuMs = 0;
  const hwmByPid = new Map<number, number>();
  const cpuByPid = new Map<number, number>();
  const sum = (byPid: Map<number, number>) => [...byPid.values()].reduce((a, b) => a + b, 0);
  const sample = () => {
    for (const pid of processTree(child.pid!)) {
      hwmByPid.set(pid, Math.max(hwmByPid.get(pid) ?? 0, readHwmKb(pid) ?? 0));
      cpuByPid.set(pid, Math.max(cpuByPid.get(pid) ?? 0, 1000 * (processCpuSeconds(pid) ?? 0)));
    }
    peakKb = sum(hwmByPid);
    cpuMs = sum(cpuByPid);
  };
  const sampler = setInterval(sample, 25);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // VmHWM only grows, so the last sample before exit is the peak up to ~25 ms before the end.
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolve(exitCode));
  });
  clearInterval(sampler);
  return { code, wallMs: performance.now() - started, peakRssMb: peakKb / 1024, cpuMs, stdout, stderr };
}

/**
 * Runs `node bin/ferry.mjs run -f <dir> --mode <mode> --state-db <url> -o json` as a child process;
 * `nodeArgs` go to that node (e.g. `--cpu-prof`).
 */
export async function runFerry(
  engine: Engine,
  options: { manifests: string; mode: 'Full' | 'Incremental'; stateUrl: string; log: string; nodeArgs?: string[] },
): Promise<FerryRun> {
  const args = [...(options.nodeArgs ?? []), engine.cli, 'run', '-f', options.manifests, '--mode', options.mode, '--state-db', options.stateUrl, '-o', 'json'];
  const env = { ...process.env, FERRY_LOG_LEVEL: 'warn', ...(engine.runner === 'dist' ? { FERRY_USE_DIST: '1' } : {}) };
  const spawnedAt = Date.now();
  const run = await runMeasured(process.execPath, args, env);
  const exitedAt = Date.now();
  writeFileSync(options.log, run.stderr);
  if (run.code !== 0) throw new Error(`ferry ${options.mode} exited with ${run.code}; stderr in ${options.log}:\n${run.stderr.slice(-2000)}\n${run.stdout.slice(-2000)}`);
  const report = JSON.parse(run.stdout) as RunReport;
  const startupMs = Date.parse(report.startedAt) - spawnedAt;
  const shutdownMs = exitedAt - Date.parse(report.completedAt);
  return { wallMs: run.wallMs, peakRssMb: run.peakRssMb, cpuMs: run.cpuMs, startupMs, shutdownMs, report };
}
