import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../../src/util/embedded-postgres.ts', import.meta.url));

// A process that used the embedded server and then failed must exit with its failure: the test
// runner's own exit code (CI) and `ferry run`'s exit codes depend on it.
it('keeps the exit code a process set after starting and stopping an embedded PostgreSQL, and exits without an error', async () => {
  const script = `
    const { startEmbeddedPostgres } = await import(${JSON.stringify(MODULE)});
    const server = await startEmbeddedPostgres({ persistent: false });
    await server.stop();
    process.exitCode = 3;
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(stderr).not.toMatch(/Error/);
  expect(code).toBe(3);
});
