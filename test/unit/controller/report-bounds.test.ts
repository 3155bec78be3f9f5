import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../../src/engine/report.js';
import { boundedReport, formatDuration } from '../../../src/controller/syncjob-reconciler.js';

function hugeReport(): RunReport {
  const entities = Array.from({ length: 200 }, (_, i) => ({
    name: `entity_${i}`, read: 1, created: 1, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0, linked: 0, skipped: 0, sourceGone: 0, durationMs: 5,
    notes: Array.from({ length: 100 }, (_, n) => `note ${n} ${'x'.repeat(200)}`),
  }));
  return {
    runId: 'r', flow: 'ns/f', mode: 'Full', dryRun: false, status: 'Succeeded', startedAt: '', completedAt: '', durationMs: 1,
    watermarksBefore: {}, watermarksAfter: {}, entities,
    totals: { read: 200, created: 200, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0, linked: 0, skipped: 0, sourceGone: 0 },
    rejectedSamples: Array.from({ length: 5000 }, (_, i) => ({ entity: 'entity_1', key: String(i), reason: 'y'.repeat(300) })),
  };
}

describe('report ConfigMap bounds', () => {
  it('trims a huge report under 1 MiB and keeps small ones whole', () => {
    const { json, text } = boundedReport({ ...hugeReport(), notes: ['ran SyncFlow generation 4, not generation 3 it was admitted with'] });
    expect(Buffer.byteLength(json) + Buffer.byteLength(text)).toBeLessThan(1024 * 1024);
    expect(JSON.parse(json).entities.length).toBeGreaterThan(0);
    // Run-level notes are few and are kept when entity notes are trimmed.
    expect(JSON.parse(json).notes).toEqual(['ran SyncFlow generation 4, not generation 3 it was admitted with']);
    expect(text).toContain('note: ran SyncFlow generation 4, not generation 3 it was admitted with');
    const small = { ...hugeReport(), entities: [], rejectedSamples: [{ entity: 'e', key: '1', reason: 'bad' }] };
    expect(JSON.parse(boundedReport(small).json).rejectedSamples).toHaveLength(1);
  });

  it('formats durations like kubectl', () => {
    expect(formatDuration(83_000)).toBe('1m23s');
    expect(formatDuration(4000)).toBe('4s');
    expect(formatDuration(3_723_000)).toBe('1h2m3s');
  });
});
