import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { FERRY } from '../../helpers/ferry-process.js';

// Every committed write to the target, in order: a row applied twice shows up as an extra write.
export const WRITES_SQL = `
CREATE TABLE staff_writes (n bigserial PRIMARY KEY, employee_no text NOT NULL, name text);
CREATE FUNCTION log_staff_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO staff_writes (employee_no, name) VALUES (NEW.employee_no, NEW.name); RETURN NEW; END $$;
CREATE TRIGGER staff_writes AFTER INSERT OR UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION log_staff_write();
`;

/** The manifests `ferry run -f` reads: the SyncFlow `payroll` and its target's Secret. */
export async function writeManifests(dir: string, spec: SyncFlowSpec, targetUrl: string): Promise<void> {
  const flow = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec };
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } };
  await writeFile(join(dir, 'flow.yaml'), [flow, secret].map((d) => JSON.stringify(d)).join('\n---\n'));
}

/** `ferry run -f`, as an operator runs it; FERRY_FAILPOINT makes it SIGKILL itself at that point. */
export function ferryRun(
  manifests: string,
  stateUrl: string,
  mode: 'Full' | 'Incremental',
  failpoint?: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FERRY, 'run', '-f', manifests, '--mode', mode, '--state-db', stateUrl, '-o', 'json'], {
      env: { ...process.env, ...(failpoint ? { FERRY_FAILPOINT: failpoint } : {}) },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}
