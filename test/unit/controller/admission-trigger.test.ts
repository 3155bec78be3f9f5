import { describe, expect, it } from 'vitest';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { decideAdmission } from '../../../src/controller/admission.js';
import { parseTrigger, triggeredJobName } from '../../../src/controller/trigger.js';

function job(name: string, phase: string | undefined, createdSecond: number): SyncJob {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncJob',
    metadata: { name, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, createdSecond)).toISOString() },
    spec: { flowRef: { name: 'crm' }, mode: 'Full' },
    ...(phase ? { status: { phase: phase as 'Running' } } : {}),
  };
}

describe('admission', () => {
  const running = job('a', 'Running', 1);
  const fresh = job('c', undefined, 3);

  it('admits when nothing is active, whatever the policy', () => {
    for (const policy of ['Forbid', 'Queue', 'Replace'] as const) {
      expect(decideAdmission(fresh, [job('old', 'Succeeded', 0)], policy)).toEqual({ action: 'admit' });
    }
  });

  it('Forbid rejects naming the active SyncJob', () => {
    expect(decideAdmission(fresh, [running], 'Forbid')).toEqual({
      action: 'reject',
      message: 'SyncJob a is already running for this flow (concurrencyPolicy Forbid)',
    });
  });

  it('Queue waits for the active one, then behind older queued ones', () => {
    expect(decideAdmission(fresh, [running], 'Queue')).toMatchObject({ action: 'queue' });
    const olderQueued = job('b', 'Queued', 2);
    expect(decideAdmission(fresh, [olderQueued], 'Queue')).toEqual({ action: 'queue', message: 'waiting behind b' });
    expect(decideAdmission(olderQueued, [fresh], 'Queue')).toEqual({ action: 'admit' });
  });

  it('Replace cancels the active ones', () => {
    expect(decideAdmission(fresh, [running, job('s', 'Scheduled', 2)], 'Replace')).toMatchObject({
      action: 'replace',
      victims: [{ metadata: { name: 'a' } }, { metadata: { name: 's' } }],
    });
  });
});

describe('trigger annotation', () => {
  it('parses modes, scopes, records and tokens', () => {
    expect(parseTrigger('Full@2026-01-05T10:00:00Z')).toEqual({ mode: 'Full', token: '2026-01-05T10:00:00Z' });
    expect(parseTrigger('Scope:events@7')).toEqual({ mode: 'Scope', scope: 'events', token: '7' });
    expect(parseTrigger('Record:people/a@b.org@x1')).toEqual({ mode: 'Record', record: { entity: 'people', key: 'a@b.org' }, token: 'x1' });
  });

  it('rejects malformed requests with a reason', () => {
    expect(parseTrigger('Full')).toHaveProperty('error');
    expect(parseTrigger('Full@')).toHaveProperty('error');
    expect(parseTrigger('Resolve@1')).toEqual({ error: 'mode "Resolve" cannot be requested by annotation (use Full, Incremental, Scope, Record)' });
    expect(parseTrigger('Scope@1')).toHaveProperty('error');
    expect(parseTrigger('Record:people@1')).toHaveProperty('error');
    expect(parseTrigger('Full:x@1')).toHaveProperty('error');
  });

  it('names one SyncJob per request value', () => {
    expect(triggeredJobName('crm', 'Full@1')).toBe(triggeredJobName('crm', 'Full@1'));
    expect(triggeredJobName('crm', 'Full@1')).not.toBe(triggeredJobName('crm', 'Full@2'));
    expect(triggeredJobName('crm', 'Full@1')).toMatch(/^crm-req-[0-9a-f]{10}$/);
  });
});
