/**
 * Invalid files sources applied to a real kube-apiserver (1.20: CEL rules are not evaluated): the
 * CRD's OpenAPI schema refuses some with the field named; the others are stored and the controller
 * marks them Stalled, naming the field. The same cases go through `ferry validate` in
 * test/unit/api/validate-files-specs.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import { INVALID_FILES_SPECS, filesFlow } from '../helpers/invalid-files-specs.js';
import { namespaceWithStateDb, startController, waitFor } from './fixtures/env.js';
import { kubectl } from './fixtures/kubectl.js';

const ns = 'e2e-files-invalid';
let kube: Kube;
let controller: Controller;
const dir = mkdtempSync(join(tmpdir(), 'ferry-files-invalid-'));

beforeAll(async () => {
  let stateUrl: string;
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_files_invalid'));
  controller = await startController(ns, stateUrl);
});

afterAll(async () => {
  await controller?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** kubectl create; `--validate=false` leaves the schema to the API server (kubectl would check required fields itself). */
async function apply(flow: SyncFlow) {
  flow.metadata.namespace = ns;
  const path = join(dir, `${flow.metadata.name}.json`);
  writeFileSync(path, JSON.stringify(flow));
  return kubectl(['create', '--validate=false', '-f', path]);
}

/** The API server (1.20) names a field without list indexes: spec.entities.source.file.pattern. */
const asServerNamesIt = (field: RegExp) => new RegExp(field.source.replace(/\\\[\d+\\\]/g, ''));

const stalledMessage = (name: string) =>
  waitFor(`${name} Stalled`, async () => {
    const flow = await kube.get<SyncFlow>('SyncFlow', ns, name);
    const stalled = flow.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    return stalled && stalled.observedGeneration === flow.metadata.generation ? stalled.message : undefined;
  });

describe('invalid files sources in a cluster', () => {
  it('the valid flow they are made from is accepted and not Stalled', async () => {
    const created = await apply(filesFlow('valid-files'));
    expect(created.status, created.stderr).toBe(0);
    const ready = await waitFor('valid-files reconciled', async () => {
      const flow = await kube.get<SyncFlow>('SyncFlow', ns, 'valid-files');
      return flow.status?.observedGeneration === flow.metadata.generation ? flow : undefined;
    });
    expect(ready.status?.conditions?.find((c) => c.type === 'Stalled')).toBeUndefined();
  });

  const bySchema = INVALID_FILES_SPECS.filter((c) => c.by === 'schema');
  it.each(bySchema.map((c) => [c.name, c] as const))('the API server refuses %s, naming the field', async (_name, invalid) => {
    const created = await apply(invalid.flow());
    expect(created.status, `${invalid.name} was stored: ${created.stdout}`).not.toBe(0);
    expect(created.stderr).toMatch(/is invalid/);
    expect(created.stderr).toMatch(asServerNamesIt(invalid.field));
  });

  it('the API server refuses a SyncJob re-importing a name with a directory; the controller fails one on a flow without files', async () => {
    const job = (name: string, flow: string, reimport: string[]) => ({
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncJob',
      metadata: { name, namespace: ns },
      spec: { flowRef: { name: flow }, mode: 'Incremental', reimport },
    });
    const path = join(dir, 'reimport-dir.json');
    writeFileSync(path, JSON.stringify(job('reimport-dir', 'valid-files', ['processed/employees-1.csv.gpg'])));
    const created = await kubectl(['create', '--validate=false', '-f', path]);
    expect(created.status, created.stdout).not.toBe(0);
    expect(created.stderr).toMatch(/spec\.reimport.*Invalid value: "processed\/employees-1\.csv\.gpg"/);

    const crm = filesFlow('crm-database');
    crm.metadata.namespace = ns;
    crm.spec.source = { postgres: { secretRef: { name: 'crm-db' } } };
    delete (crm.spec.entities[0]!.source as { file?: unknown }).file;
    await kube.create('SyncFlow', crm);
    await kube.create('SyncJob', job('reimport-no-files', 'crm-database', ['employees-1.csv']));
    const failed = await waitFor('reimport-no-files Failed', async () => {
      const j = await kube.get<SyncJob>('SyncJob', ns, 'reimport-no-files');
      return j.status?.phase === 'Failed' ? j : undefined;
    });
    expect(failed.status?.message).toMatch(/spec\.reimport: SyncFlow "crm-database" has no files source/);
  });

  const byValidator = INVALID_FILES_SPECS.filter((c) => c.by === 'validator');
  it.each(byValidator.map((c) => [c.name, c] as const))('the controller marks %s Stalled, naming the field', async (_name, invalid) => {
    const created = await apply(invalid.flow());
    expect(created.status, created.stderr).toBe(0);
    expect(await stalledMessage(invalid.flow().metadata.name)).toMatch(invalid.field);
  });
});
