import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../helpers/databases.js';
import { ferry, runNode } from '../../helpers/ferry-process.js';
import { miniFlowSpec } from '../../helpers/mini-flow.js';

const KUBECTL_FERRY = join(process.cwd(), 'bin', 'kubectl-ferry.mjs');
const UNREACHABLE = 'postgres://ferry:s3cret-pw@127.0.0.1:1/nowhere';
const dir = mkdtempSync(join(tmpdir(), 'ferry-errout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'manifests.yaml'),
  [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec() },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: UNREACHABLE } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: UNREACHABLE } },
  ]
    .map((d) => stringify(d))
    .join('---\n'),
);

/** With -o json a failed command prints one JSON document on stdout (and its text line on stderr). */
describe('every ferry command honours -o json on failure', () => {
  it.each([
    { command: 'run', args: ['run', '-f', dir, '--flow', 'nope', '-o', 'json'], message: /SyncFlow "nope" not found/ },
    { command: 'pairs', args: ['pairs', '-f', dir, '--flow', 'nope', '-o', 'json'], message: /SyncFlow "nope" not found/ },
    { command: 'resolve', args: ['resolve', '-f', dir, '--entity', 'people', '--output', 'json'], message: /choose exactly one of --keep/ },
    { command: 'exports', args: ['exports', '-f', dir, '-o', 'json'], message: /choose an export SyncFlow with --flow/ },
    { command: 'probe', args: ['probe', '-f', dir, '-o', 'json'], message: /no ExportTarget found in the manifests/ },
  ])('$command: bad input is {"error": {kind: BadInput, message, exitCode: 2}}', async ({ args, message }) => {
    const out = await ferry(args);
    expect(out.code).toBe(2);
    const parsed = JSON.parse(out.stdout) as { error: { kind: string; message: string; exitCode: number } };
    expect(parsed.error).toEqual({ kind: 'BadInput', message: expect.stringMatching(message), exitCode: 2 });
    expect(out.stderr).toMatch(/^ferry: /m);
  });

  it('an unreachable database: the failed run as JSON, without the password; the table format keeps stdout for reports', async () => {
    const stateUrl = await freshDatabase('errout_state');
    const out = await ferry(['run', '-f', dir, '--state-db', stateUrl, '--mode', 'Full', '-o', 'json']);
    expect(out.code).toBe(1);
    const parsed = JSON.parse(out.stdout) as { error?: { message: string }; status?: string };
    expect(parsed.error?.message ?? parsed.status).toBeTruthy();
    expect(out.stdout).toMatch(/cannot connect to the source database/);
    expect(out.stdout + out.stderr).not.toContain('s3cret-pw');

    const table = await ferry(['pairs', '-f', dir, '--flow', 'nope']);
    expect(table.code).toBe(2);
    expect(table.stdout).toBe('');
    expect(table.stderr).toMatch(/^ferry: SyncFlow "nope" not found/m);
  });

  it('kubectl ferry: an unreachable API server with -o json is an {"error": ...} document too', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const closedPort = await portNobodyListensOn();
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${closedPort}` } }],
        users: [{ name: 'u', user: { token: 's3cret-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
        'current-context': 'x',
      }),
    );
    const out = await runNode(KUBECTL_FERRY, ['status', 'mini', '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(out.code).not.toBe(0);
    const parsed = JSON.parse(out.stdout) as { error: { message: string; exitCode: number } };
    expect(parsed.error.exitCode).toBe(out.code);
    expect(parsed.error.message).toBe('SyncFlow default/mini: cannot reach the API server');
    expect(out.stderr).toMatch(/^error: /m);
    expect(out.stdout + out.stderr).not.toContain('s3cret-token');
    const text = await runNode(KUBECTL_FERRY, ['status', 'mini'], { KUBECONFIG: kubeconfig });
    expect(text.stdout).toBe('');
  });
});

/** A loopback port that was free a moment ago (fetch refuses port 1 itself as a "bad port", before any connection). */
async function portNobodyListensOn(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
