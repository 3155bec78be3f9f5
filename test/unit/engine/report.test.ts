import { describe, expect, it } from 'vitest';
import { totalsOf, type EntityReport, type RunReport } from '../../../src/engine/report.js';
import { renderReport } from '../../../src/report/formats.js';

function entity(name: string, counts: Partial<EntityReport>): EntityReport {
  return { name, read: 0, created: 0, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0, linked: 0, skipped: 0, sourceGone: 0, durationMs: 5, notes: [], ...counts };
}

const entities = [entity('people', { read: 10, created: 7, rejected: 1 }), entity('firms<&>', { read: 3, updated: 2 })];
const report: RunReport = {
  runId: 'r-1',
  flow: 'default/association',
  mode: 'Full',
  dryRun: false,
  status: 'Succeeded',
  startedAt: '2026-11-22T10:00:00.000Z',
  completedAt: '2026-11-22T10:00:01.500Z',
  durationMs: 1500,
  watermarksBefore: {},
  watermarksAfter: {},
  entities,
  totals: totalsOf(entities),
  rejectedSamples: [{ entity: 'people', key: '42', reason: 'column email: value too long for type character varying(120)' }],
};

describe('run report rendering', () => {
  it('totals every counter across entities', () => {
    expect(report.totals).toMatchObject({ read: 13, created: 7, updated: 2, rejected: 1 });
  });

  it('renders a terminal table with totals and the rejected sample', () => {
    const text = renderReport(report, 'table');
    expect(text).toContain('default/association · Full · Succeeded in 1.5 s · run r-1');
    expect(text).toMatch(/│ people\s+│\s+10 │\s+7 │\s+0 │/);
    expect(text).toMatch(/│ TOTAL\s+│\s+13 │\s+7 │\s+2 │/);
    expect(text).toContain('people 42: column email: value too long');
  });

  it('renders Markdown and escaped HTML that start with the run summary, then every entity; and JSON', () => {
    const markdown = renderReport(report, 'markdown');
    expect(markdown.split('\n')[0]).toBe('**7 people and 2 related rows changed (7 created, 2 updated) in 1.5 s; 1 row rejected**');
    expect(markdown).toContain('- people 42: column email: value too long for type character varying(120)');
    expect(markdown).toContain('| people | 10 | 7 | 0 | 0 | 0 | 0 | 1 | 5 ms |');
    expect(markdown).toContain('| firms&lt;&amp;&gt; | 3 | 0 | 2 | 0 | 0 | 0 | 0 | 5 ms |');
    const html = renderReport(report, 'html');
    expect(html).toContain('>7 people and 2 related rows changed (7 created, 2 updated) in 1.5 s; 1 row rejected</h1>');
    expect(html).toMatch(/<td style="[^"]*">firms&lt;&amp;&gt;<\/td><td style="[^"]*">3<\/td>/);
    expect(html).not.toContain('firms<&>');
    expect(JSON.parse(renderReport(report, 'json'))).toEqual(report);
  });
});
