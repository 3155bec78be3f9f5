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
