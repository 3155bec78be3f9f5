import { describe, expect, it } from 'vitest';
import { checkManifestSchema, validateSyncJob } from '../../../src/api/index.js';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { complete, completionScript, type CompletionSources } from '../../../src/cli/kubectl-ferry/completion.js';
import { dstNote } from '../../../src/console/dst.js';
import { busyMessage, flowDashboard, formatDuration, nextRuns, progressBar, progressLine, runsTable, summaryTable, zonedTime } from '../../../src/cli/kubectl-ferry/format.js';
import {
  buildResolve,
  buildRetransfer,
  buildSyncRequest,
  parseRecordRef,
  parseTimeout,
  resolutionFromFlags,
  syncModeFromFlags,
} from '../../../src/actions/sync-jobs.js';
import { gitOpsNote, gitOpsOwner, suspendPatch } from '../../../src/cli/kubectl-ferry/suspend.js';

const flow: SyncFlow = {
  apiVersion: 'ferry.dev/v1alpha1',
  kind: 'SyncFlow',
  metadata: { name: 'members', namespace: 'crm' },
  spec: {
    direction: 'OneWay',
    source: { postgres: { secretRef: { name: 'src' } } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    entities: [
      {
        name: 'people',
        source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
        target: { table: 'people', keys: ['id'] },
        fields: [{ source: 'email', target: 'email' }],
      },
    ],
    scopes: [{ name: 'events', entities: ['people'] }],
    schedules: [
      { name: 'overnight', cron: '30 1 * * *', timeZone: 'Europe/Amsterdam', mode: 'Full', enabledIn: ['prod'] },
      { name: 'office-hours', cron: '*/30 8-17 * * 1-5', timeZone: 'America/New_York', mode: 'Incremental' },
      { name: 'events', cron: '0 12 * * *', mode: 'Scope', scope: 'events', suspend: true },
    ],
  },
} as SyncFlow;

const context = { namespace: 'crm', flow: 'members' };

/** As the API server would see it: schema-valid, and every CEL rule the local validator repeats. */
function expectValidJob(job: SyncJob) {
  expect(checkManifestSchema(job)).toEqual([]);
  expect(validateSyncJob({ ...job, metadata: { ...job.metadata, name: 'x' } } as SyncJob, [flow])).toEqual([]);
}

describe('sync requests', () => {
  it('defaults to an Incremental run with a generated name, labelled with flow and mode', () => {
    const job = buildSyncRequest(context, {});
    expect(job).toEqual({
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncJob',
      metadata: {
        generateName: 'members-incremental-',
        namespace: 'crm',
        labels: { 'ferry.dev/flow': 'members', 'ferry.dev/mode': 'Incremental', 'ferry.dev/requested-via': 'kubectl-ferry' },
      },
      spec: { flowRef: { name: 'members' }, mode: 'Incremental' },
    });
    expectValidJob(job);
  });

  it.each([
    [{ full: true }, { mode: 'Full' }],
    [{ incremental: true }, { mode: 'Incremental' }],
    [{ scope: 'events' }, { mode: 'Scope', scope: 'events' }],
    [{ scope: 'events', full: true }, { mode: 'Scope', scope: 'events', scopeMode: 'Full' }],
    [{ record: 'people/42' }, { mode: 'Record', record: { entity: 'people', key: '42' } }],
    [{ record: 'people/a/b' }, { mode: 'Record', record: { entity: 'people', key: 'a/b' } }],
  ])('%o -> %o', (flags, spec) => {
    expect(syncModeFromFlags(flags)).toEqual(spec);
    expectValidJob(buildSyncRequest(context, flags));
  });

  it('carries dry run and the requester', () => {
    const job = buildSyncRequest(context, { full: true, dryRun: true, requestedBy: 'ops@example.org' });
    expect(job.spec).toEqual({ flowRef: { name: 'members' }, mode: 'Full', requestedBy: 'ops@example.org', dryRun: true });
    expectValidJob(job);
  });

  it.each([
    [{ full: true, incremental: true }, '--full and --incremental are mutually exclusive'],
    [{ record: 'people/1', full: true }, '--record syncs one record'],
    [{ record: 'people' }, '--record must be ENTITY/KEY'],
    [{ record: '/42' }, '--record must be ENTITY/KEY'],
    [{ record: 'people/' }, '--record must be ENTITY/KEY'],
    [{ scope: '' }, '--scope needs a scope name'],
  ])('rejects %o', (flags, message) => {
    expect(() => syncModeFromFlags(flags)).toThrow(message);
  });

  it('parses record references and timeouts', () => {
    expect(parseRecordRef('firms/F-001')).toEqual({ entity: 'firms', key: 'F-001' });
    expect(parseTimeout('90s')).toBe(90_000);
    expect(parseTimeout('15m')).toBe(900_000);
    expect(parseTimeout('6h')).toBe(21_600_000);
    expect(parseTimeout('30')).toBe(30_000);
    expect(() => parseTimeout('soon')).toThrow('--timeout must look like');
  });

  it('keeps generated names within the DNS limits for long flow names', () => {
    const job = buildSyncRequest({ namespace: 'x', flow: 'a'.repeat(63) }, { full: true });
    expect(job.metadata.generateName).toBe(`${'a'.repeat(40)}-full-`);
  });
});

describe('retransfer and resolve', () => {
  const exportRun = {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncJob',
    metadata: { name: 'loyalty-nightly-1763778600', namespace: 'crm' },
    spec: { flowRef: { name: 'members' }, mode: 'Full' },
    status: { phase: 'Succeeded', runId: 'run-17', reportRef: { runId: 'run-17' } },
  } as SyncJob;

  it('re-sends the file of an earlier run to all or some targets', () => {
    expect(buildRetransfer(exportRun, []).spec).toEqual({ flowRef: { name: 'members' }, mode: 'Retransfer', retransfer: { runId: 'run-17' } });
    const job = buildRetransfer(exportRun, ['partner-sftp', 'partner-sftp', 'bank-ftps']);
    expect(job.spec.retransfer).toEqual({ runId: 'run-17', targets: ['partner-sftp', 'bank-ftps'] });
    expect(job.metadata.namespace).toBe('crm');
    // Schema only: the semantic check wants an export flow, which this fixture is not.
    expect(checkManifestSchema(job)).toEqual([]);
  });

  it('refuses a run without a run id', () => {
    expect(() => buildRetransfer({ ...exportRun, status: { phase: 'Rejected' } }, [])).toThrow('has no run id yet (phase Rejected)');
  });

  it('builds resolutions from flags in any spelling of the action', () => {
    expect(resolutionFromFlags({ entity: 'people', sourceKey: '42', action: 'keep-source', fields: 'email, phone' })).toEqual({
      entity: 'people',
      sourceKey: '42',
      action: 'KeepSource',
      fields: ['email', 'phone'],
    });
    expect(resolutionFromFlags({ entity: 'people', targetKey: '7', action: 'deactivate' }).action).toBe('Deactivate');
    const job = buildResolve(context, [resolutionFromFlags({ entity: 'people', sourceKey: '1', targetKey: '2', action: 'Link' })]);
    expect(job.spec.mode).toBe('Resolve');
    expectValidJob(job);
  });

  it.each([
    [{ sourceKey: '1', action: 'Link' }, '--entity is required'],
    [{ entity: 'people', action: 'Link' }, '--source-key or --target-key is required'],
    [{ entity: 'people', sourceKey: '1', action: 'Merge' }, '--action must be one of KeepSource, KeepTarget'],
    [{ entity: 'people', sourceKey: '1', action: 'Deactivate', fields: 'email' }, '--fields only applies'],
  ])('rejects %o', (flags, message) => {
    expect(() => resolutionFromFlags(flags)).toThrow(message);
  });

  it('refuses an empty resolve', () => {
    expect(() => buildResolve(context, [])).toThrow('nothing to resolve');
  });
});

describe('suspend and resume', () => {
  it('patches the flow or exactly one schedule, guarded by a test on its name', () => {
    expect(suspendPatch(flow, true)).toEqual([{ op: 'add', path: '/spec/suspend', value: true }]);
    expect(suspendPatch(flow, false, 'office-hours')).toEqual([
      { op: 'test', path: '/spec/schedules/1/name', value: 'office-hours' },
      { op: 'add', path: '/spec/schedules/1/suspend', value: false },
    ]);
    expect(() => suspendPatch(flow, true, 'weekly')).toThrow('SyncFlow members has no schedule "weekly" (schedules: overnight, office-hours, events)');
  });

  it('recognises Flux and Argo CD ownership', () => {
    const labelled = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({ metadata: { name: 'members', labels, annotations } });
    expect(gitOpsOwner(labelled({}))).toBeUndefined();
    expect(gitOpsOwner(labelled({ 'kustomize.toolkit.fluxcd.io/name': 'ferry-schedules', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' }))).toEqual({
      tool: 'Flux',
      name: 'flux-system/ferry-schedules',
    });
    expect(gitOpsOwner(labelled({ 'helm.toolkit.fluxcd.io/name': 'crm' }))).toEqual({ tool: 'Flux', name: 'crm' });
    expect(gitOpsOwner(labelled({ 'argocd.argoproj.io/instance': 'ferry-flows' }))).toEqual({ tool: 'Argo CD', name: 'ferry-flows' });
    expect(gitOpsOwner(labelled({}, { 'argocd.argoproj.io/tracking-id': 'ferry-flows:ferry.dev/SyncFlow:crm/members' }))).toEqual({
      tool: 'Argo CD',
      name: 'ferry-flows',
    });
  });

  it('suggests the Git change for a GitOps-managed field', () => {
    const note = gitOpsNote(flow, { tool: 'Flux', name: 'flux-system/ferry-schedules' }, true, 'overnight');
    expect(note).toContain('SyncFlow members is managed by Flux (flux-system/ferry-schedules); spec.schedules[name=overnight].suspend is a GitOps-managed field.');
    expect(note).toContain('will undo this');
    expect(note).toContain('    schedules:\n      - name: overnight\n        suspend: true');
    expect(gitOpsNote(flow, { tool: 'Argo CD', name: 'ferry-flows' }, false)).toContain('spec:\n    suspend: false');
  });
});

describe('output', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  const running = {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncJob',
    metadata: { name: 'members-incremental-x7k2p', namespace: 'crm', creationTimestamp: '2026-11-22T09:58:00Z' },
    spec: { flowRef: { name: 'members' }, mode: 'Incremental' },
    status: {
      phase: 'Running',
      startedAt: '2026-11-22T09:59:00Z',
      estimate: { seconds: 240, basis: 'median of the last 5 Incremental runs' },
      summary: { entities: [{ name: 'people', read: 1200, created: 3, updated: 10, unchanged: 1187, archived: 0, deleted: 0, rejected: 0 }] },
    },
  } as SyncJob;
  const done = (name: string, phase: string, completedAt: string, extra: Partial<SyncJob['status']> = {}) =>
    ({
      ...running,
      metadata: { ...running.metadata, name, creationTimestamp: completedAt },
      spec: { flowRef: { name: 'members' }, mode: 'Full' },
      status: { phase, startedAt: completedAt, completedAt, duration: '1m23s', ...extra },
    }) as SyncJob;

  it('says which run holds the flow, and since when', () => {
    const active = { ...running, metadata: { ...running.metadata, name: 'members-overnight-1763778600' }, status: { phase: 'Running', startedAt: '2026-11-22T00:30:00Z' } } as SyncJob;
    expect(busyMessage('members', active, 'Europe/Amsterdam')).toBe('members is already syncing: members-overnight-1763778600, running since 01:30');
    expect(busyMessage('members', { ...active, status: { phase: 'Scheduled' } }, 'UTC')).toBe('members is already syncing: members-overnight-1763778600, scheduled since 09:58');
  });

  it('formats durations and progress bars', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(83)).toBe('1m23s');
    expect(formatDuration(3725)).toBe('1h2m5s');
    expect(progressBar(0.5, 10)).toBe('[#####-----]  50%');
    expect(progressBar(2, 4)).toBe('[####] 100%');
    expect(progressBar(Number.NaN, 4)).toBe('[----]   0%');
  });

  it('shows a running job against its estimate, capped below 100%', () => {
    expect(progressLine(running, now, 10)).toBe('Running [###-------]  25%  1m0s of ~4m0s  1,200 rows read');
    expect(progressLine(running, new Date('2026-11-22T11:00:00Z'), 10)).toContain(' 99%');
    expect(progressLine(done('a', 'Failed', '2026-11-22T09:00:00Z', { message: 'EngineError: relation "people" does not exist' }), now, 10)).toBe(
      'Failed  1m23s  EngineError: relation "people" does not exist',
    );
    expect(progressLine({ ...running, status: { phase: 'Queued', message: 'waiting for members-nightly-1' } }, now)).toBe('Queued: waiting for members-nightly-1');
  });

  it('prints the summary with totals and transfer outcomes', () => {
    const table = summaryTable({
      ...running,
      status: {
        summary: {
          entities: [...(running.status!.summary!.entities ?? []), { name: 'genders', read: 0, created: 0, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0 }],
          transfers: [{ target: 'partner-sftp', state: 'Succeeded', bytes: 2048 }],
        },
      },
    });
    expect(table).toMatch(/people\s*│\s*1200\s*│\s*3\s*│\s*10\s*│\s*1187/);
    expect(table).toMatch(/total\s*│\s*1200/);
    expect(table).toContain('1 more entity had nothing to read.');
    expect(table).toMatch(/partner-sftp\s*│\s*Succeeded\s*│\s*2048/);
    expect(summaryTable({ ...running, status: {} })).toBe('No summary yet.');
  });

  it('computes the next run of each schedule in its own time zone', () => {
    const runs = nextRuns(flow, now);
    expect(runs.map((r) => [r.schedule, r.at?.toISOString(), r.note])).toEqual([
      ['overnight', '2026-11-23T00:30:00.000Z', 'only in prod'],
      ['office-hours', '2026-11-23T13:00:00.000Z', undefined],
      ['events', undefined, 'suspended'],
    ]);
    expect(zonedTime(runs[0].at!, 'Europe/Amsterdam')).toBe('2026-11-23 01:30 GMT+1');
    expect(nextRuns({ ...flow, spec: { ...flow.spec, suspend: true } }, now).every((r) => r.note === 'flow suspended')).toBe(true);
  });

  it('lists runs newest first with transfers', () => {
    const jobs = [
      done('members-nightly-1', 'Succeeded', '2026-11-21T01:30:00Z', { summary: { transfers: [{ target: 'bank', state: 'Failed' }] } }),
      running,
      done('other-flow-run', 'Succeeded', '2026-11-21T02:00:00Z'),
    ];
    jobs[2].spec = { flowRef: { name: 'other' }, mode: 'Full' };
    const lines = runsTable(jobs, 'members', now).split('\n');
    expect(lines[0]).toMatch(/^NAME\s+MODE\s+PHASE\s+CREATED\s+STARTED\s+DURATION\s+TRANSFERS\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^members-incremental-x7k2p\s+Incremental\s+Running\s+2026-11-22 09:58:00Z/);
    expect(lines[2]).toMatch(/^members-nightly-1\s+Full\s+Succeeded.*bank: Failed/);
    expect(lines).toHaveLength(3);
    expect(runsTable([], 'members', now)).toBe('No SyncJobs for flow members.');
  });

  it('renders the dashboard: ready, active run, next runs, last runs, pair categories', () => {
    const withStatus = {
      ...flow,
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '2026-11-22T08:00:00Z' }],
        categories: { synchronised: 12034, new: 3, conflict: 1 },
      },
    } as SyncFlow;
    const text = flowDashboard(withStatus, [running, done('members-overnight-1763778600', 'Succeeded', '2026-11-22T00:31:00Z')], now);
    expect(text).toContain('members  OneWay');
    expect(text).toContain('Ready:      True');
    expect(text).toContain('Active:     members-incremental-x7k2p  Incremental');
    expect(text).toContain('estimate ~4m0s (median of the last 5 Incremental runs)');
    expect(text).toMatch(/Next runs:\s+overnight\s+Full\s+2026-11-23 01:30 GMT\+1\s+\(only in prod\)/);
    expect(text).toMatch(/office-hours\s+Incremental\s+2026-11-23 08:00 EST/);
    expect(text).toMatch(/Last runs:\s+members-overnight-1763778600\s+Full\s+Succeeded\s+1m23s/);
    expect(text).toContain('Pairs:      conflict 1 · new 3 · deleted 0 · deactivated 0 · synchronised 12,034 · inactive 0');
  });
});

describe('kubectl ferry status on DST nights', () => {
  it('says under a schedule with a slot in a skipped or repeated hour what the run does, and nothing for other schedules', () => {
    const dst = {
      ...flow,
      spec: {
        ...flow.spec,
        schedules: [
          { name: 'nightly', cron: '30 2 * * *', timeZone: 'Europe/Berlin', mode: 'Full' },
          { name: 'early', cron: '0 4 * * *', timeZone: 'Europe/Berlin', mode: 'Incremental' },
        ],
      },
    } as SyncFlow;
    const march = flowDashboard(dst, [], new Date('2027-03-01T12:00:00Z'), dstNote).split('\n');
    const nightly = march.findIndex((l) => /Next runs:\s+nightly\s+Full\s+2027-03-02 02:30 GMT\+1/.test(l));
    expect(nightly).toBeGreaterThan(0);
    expect(march[nightly + 1]).toMatch(
      /^\s+DST: 02:30 does not exist on 2027-03-28 in Europe\/Berlin \(clocks go forward\): that run happens at 2027-03-28 03:00 GMT\+2 instead\.$/,
    );
    expect(march[nightly + 2]).toMatch(/^\s+early\s+Incremental\s+2027-03-02 04:00 GMT\+1$/);
    expect(march.filter((l) => l.includes('DST:'))).toHaveLength(1);
    const october = flowDashboard(dst, [], new Date('2027-04-01T12:00:00Z'), dstNote);
    expect(october).toContain('DST: 02:30 happens twice on 2027-10-31 in Europe/Berlin (clocks go back): the schedule runs once, at the first 02:30.');
    // Without the note function the block is as before.
    expect(flowDashboard(dst, [], new Date('2027-03-01T12:00:00Z'))).not.toContain('DST:');
  });
});

describe('completion', () => {
  const sources: CompletionSources = {
    flows: async () => ['members', 'firms', 'events'],
    syncJobs: async () => ['members-full-abc', 'firms-incremental-def'],
    scopes: async (f) => (f === 'members' ? ['events', 'everything'] : []),
    schedules: async () => ['overnight', 'office-hours'],
  };

  it.each([
    [[''], ['sync', 'status', 'runs', 'report', 'retransfer', 'resolve', 'suspend', 'resume', 'completion']],
    [['s'], ['sync', 'status', 'suspend']],
    [['sync', ''], ['members', 'firms', 'events']],
    [['sync', 'f'], ['firms']],
    [['sync', 'members', '--s'], ['--scope']],
    [['sync', 'members', '--scope', 'ev'], ['events', 'everything'].filter((s) => s.startsWith('ev'))],
    [['-n', 'crm', 'sync', 'members', '--scope', ''], ['events', 'everything']],
    [['report', 'm'], ['members-full-abc']],
    [['suspend', 'members', '--schedule', ''], ['overnight', 'office-hours']],
    [['resolve', 'members', '--action', 'Keep'], ['KeepSource', 'KeepTarget']],
    [['sync', 'members', '--record', ''], []],
    [['sync', 'members', ''], []],
    [['completion', ''], ['bash', 'zsh']],
  ])('%o', async (args, expected) => {
    expect(await complete(args, sources)).toEqual(expected);
  });

  it('survives an unreachable cluster', async () => {
    const failing = { ...sources, flows: () => Promise.reject(new Error('connection refused')) };
    expect(await complete(['sync', ''], failing)).toEqual([]);
  });

  it('prints scripts for bash and zsh', () => {
    expect(completionScript('bash')).toContain('complete -F _kubectl_ferry kubectl-ferry');
    expect(completionScript('zsh')).toMatch(/^#compdef kubectl-ferry/);
  });
});

describe('conflicts and per-field resolve (data API)', () => {
  it('--keep turns per-field choices into a KeepSource and a KeepTarget resolution the schema accepts', async () => {
    const { perFieldResolutions } = await import('../../../src/actions/sync-jobs.js');
    const resolutions = perFieldResolutions({ entity: 'people', sourceKey: '42' }, 'email=source, status=Target,phone=source');
    expect(resolutions).toEqual([
      { entity: 'people', sourceKey: '42', action: 'KeepSource', fields: ['email', 'phone'] },
      { entity: 'people', sourceKey: '42', action: 'KeepTarget', fields: ['status'] },
    ]);
    const job = { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncJob', metadata: { name: 'r' }, spec: { flowRef: { name: 'f' }, mode: 'Resolve', resolutions } };
    expect(checkManifestSchema(job)).toEqual([]);
    expect(() => perFieldResolutions({ entity: 'people', sourceKey: '42' }, 'email=both')).toThrow(/FIELD=source\|target/);
    expect(() => perFieldResolutions({ entity: 'people', sourceKey: '42' }, 'email=source,email=target')).toThrow(/twice/);
    expect(() => perFieldResolutions({ sourceKey: '42' }, 'email=source')).toThrow(/--entity/);
  });

  it('conflicts prints both values side by side and says how to resolve', async () => {
    const { conflictsText } = await import('../../../src/cli/kubectl-ferry/format.js');
    const pair = {
      apiVersion: 'data.ferry.dev/v1alpha1' as const, kind: 'Pair' as const, metadata: { name: 'crm.people.42', namespace: 'ns' },
      flow: 'crm', entity: 'people', sourceKey: '42', targetKey: '5042', category: 'conflict', lastOrigin: 'source', lastSyncedAt: '2026-01-01T00:00:00Z',
      conflict: { detectedAt: '2026-01-02T00:00:00Z', runId: 'r', fields: [
        { field: 'email', targetField: 'mail', sourceValue: 'a@x.org', targetValue: 'b@x.org', sourceChangedAt: '2026-01-01T10:00:00Z', targetChangedAt: '2026-01-01T11:00:00Z' },
        { field: 'iban', targetField: 'iban', sourceValue: '******', targetValue: '******', masked: true },
      ] },
    };
    const text = conflictsText([pair], 'crm');
    expect(text).toMatch(/people 42 ↔ 5042/);
    expect(text).toMatch(/email → mail\s+a@x\.org\s+b@x\.org\s+2026-01-01 10:00:00Z\s+2026-01-01 11:00:00Z/);
    expect(text).toContain('kubectl ferry resolve crm --entity ENTITY --source-key KEY --keep FIELD=source|target');
    expect(text).toContain('pairs/unmasked');
    expect(conflictsText([], 'crm')).toBe('No conflicts in flow crm.');
  });
});
