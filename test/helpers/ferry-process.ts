import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');

/**
 * Runs the real `ferry` CLI without blocking this process (which may host servers the command talks
 * to). Generous timeout: each CLI start costs seconds on a loaded machine.
 */
export function ferry(args: string[], timeoutMs = 180_000): Promise<ProcessOutput> {
  return runNode(FERRY, args, {}, timeoutMs);
}

export interface ProcessOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script (one of bin/) with extra environment variables and collects its output. */
export function runNode(script: string, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<ProcessOutput> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

/** A `ferry` command in a process of its own (`ferry run --watch`), its log (stderr) followed until a line appears. */
export function ferryInBackground(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [FERRY, ...args], { env: { ...process.env, FERRY_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ProcessOutput & { signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    done,
    stop: () => child.kill('SIGTERM'),
    kill: () => child.kill('SIGKILL'),
    stdout: () => stdout,
    stderr: () => stderr,
    running: () => child.exitCode === null && child.signalCode === null,
    waitFor: async (pattern: RegExp, timeoutMs: number) => {
      await until(async () => pattern.test(stderr) || child.exitCode !== null, timeoutMs).catch((error: Error) => {
        throw new Error(`${error.message}; the output so far:\n${stdout}\n${stderr}`);
      });
      if (!pattern.test(stderr)) throw new Error(`the process ended before its log matched ${pattern}:\n${stdout}\n${stderr}`);
    },
  };
}

/** Polls `check` every 250 ms until it holds; throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
