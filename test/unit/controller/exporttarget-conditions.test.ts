import { describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../../src/api/exporttarget.js';
import { exportsToReadOnlyTargets } from '../../../src/api/validate-export-target.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import { exportTargetConditions, readyResult } from '../../../src/controller/exporttarget-conditions.js';
import type { ProbeResult } from '../../../src/export/probe.js';

const NOW = new Date('2026-12-01T04:00:00Z');
const target = (access?: 'ReadOnly' | 'ReadWrite'): ExportTarget =>
  ({
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ExportTarget',
    metadata: { name: 'partner', namespace: 'default', generation: 3 },
    spec: { protocol: 'SFTP', host: 'sftp.partner.example', credentialsSecretRef: { name: 'creds' }, ...(access ? { access } : {}) },
  }) as ExportTarget;

const listed: ProbeResult = { ready: true, reason: 'Ready', message: 'connected, authenticated and listed SFTP sftp.partner.example:22 (read-only: nothing written)' };
const denied: ProbeResult = { ready: false, reason: 'PermissionDenied', message: 'cannot write a probe file: permission denied' };
const readOk: ProbeResult = { ready: true, reason: 'Ready', message: 'SyncFlow payroll: employees: read employees-20261101.csv' };
const readLocked: ProbeResult = { ready: false, reason: 'PermissionDenied', message: 'SyncFlow payroll: cannot list directory in: permission denied' };

const conditionsOf = (t: ExportTarget, probe: ProbeResult, read?: ProbeResult) =>
  Object.fromEntries(exportTargetConditions(t, readyResult(t, probe, read), read, NOW).map((c) => [c.type, [c.status, c.reason]]));

describe('ExportTarget conditions: Ready of a read-only partner location follows the read probe', () => {
  it('ReadOnly: Ready and FilesReadable both True when the listing and the read probes pass; the message says both', () => {
    expect(conditionsOf(target('ReadOnly'), listed, readOk)).toEqual({ Ready: ['True', 'Ready'], FilesReadable: ['True', 'Ready'] });
    expect(readyResult(target('ReadOnly'), listed, readOk).message).toBe(`${listed.message}; ${readOk.message}`);
  });

  it('ReadOnly: a flow that cannot read makes Ready False with the read probe’s reason', () => {
    expect(conditionsOf(target('ReadOnly'), listed, readLocked)).toEqual({ Ready: ['False', 'PermissionDenied'], FilesReadable: ['False', 'PermissionDenied'] });
  });

  it('ReadOnly: a connection failure stays the Ready reason; without readers Ready is the listing', () => {
    const unreachable: ProbeResult = { ready: false, reason: 'Unreachable', message: 'connect ECONNREFUSED' };
    expect(conditionsOf(target('ReadOnly'), unreachable, readLocked)).toMatchObject({ Ready: ['False', 'Unreachable'] });
    expect(conditionsOf(target('ReadOnly'), listed)).toEqual({ Ready: ['True', 'Ready'] });
  });

  it('ReadWrite (the default): Ready stays the write probe, whatever the read probes say', () => {
    expect(conditionsOf(target(), denied, readOk)).toEqual({ Ready: ['False', 'PermissionDenied'], FilesReadable: ['True', 'Ready'] });
    expect(conditionsOf(target('ReadWrite'), { ready: true, reason: 'Ready', message: 'wrote' }, readLocked)).toEqual({
      Ready: ['True', 'Ready'],
      FilesReadable: ['False', 'PermissionDenied'],
    });
  });

  it('an invalid spec is Stalled; the insecurity warning is kept on a read-only target whose reader fails', () => {
    expect(conditionsOf(target('ReadOnly'), { ready: false, reason: 'InvalidConfig', message: 'spec.sftp: pin the host key' })).toMatchObject({ Stalled: ['True', 'InvalidConfig'] });
    const insecure = { ...listed, warning: 'host key not pinned' };
    expect(conditionsOf(target('ReadOnly'), insecure, readLocked)).toMatchObject({ Insecure: ['True', 'InsecureConfiguration'], Ready: ['False', 'PermissionDenied'] });
  });
});

describe('exports to a read-only ExportTarget are refused', () => {
  const flow = (targets: string[]) =>
    ({ metadata: { name: 'nightly' }, spec: { target: { export: { format: 'CSV', targets: targets.map((name) => ({ name })) } } } }) as unknown as SyncFlow;
  const other = { ...target('ReadWrite'), metadata: { name: 'warehouse', namespace: 'default' } } as ExportTarget;

  it('names the field and the target', () => {
    expect(exportsToReadOnlyTargets(flow(['warehouse', 'partner']), [other, target('ReadOnly')])).toEqual([
      { path: 'spec.target.export.targets[1]', message: 'ExportTarget "partner" is read-only (spec.access: ReadOnly): an export cannot write to it' },
    ]);
    expect(exportsToReadOnlyTargets(flow(['warehouse', 'partner']), [other, target()])).toEqual([]);
  });
});
