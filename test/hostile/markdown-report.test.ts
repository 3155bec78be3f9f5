import { describe, expect, it } from 'vitest';
import { totalsOf, type EntityReport, type RunReport } from '../../src/engine/report.js';
import { renderReport } from '../../src/report/formats.js';

const people: EntityReport = {
  name: 'people', read: 1, created: 0, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 1, linked: 0, skipped: 0, sourceGone: 0, durationMs: 5, notes: [],
};

// Values from the data (a key, a value quoted in a reason or an error) as a hostile source could hold them.
const HOSTILE = '<img src=x onerror=alert(1)>[click](https://evil.example) ![t](https://evil.example/t.png)\n# heading';

const report: RunReport = {
  runId: 'r-1', flow: 'default/hostile', mode: 'Full', dryRun: false, status: 'Failed',
  startedAt: '2026-11-22T10:00:00.000Z', completedAt: '2026-11-22T10:00:01.000Z', durationMs: 1000,
  watermarksBefore: {}, watermarksAfter: {}, entities: [people], totals: totalsOf([people]),
  rejectedSamples: [{ entity: 'people', key: HOSTILE, reason: `value ${HOSTILE} too long` }],
  error: `bad value ${HOSTILE}`,
};

describe('the Markdown report (e-mails, PR comments) treats data values as text', () => {
  const markdown = renderReport(report, 'markdown');

  it('passes no raw HTML through', () => {
    expect(markdown).not.toMatch(/<img/i);
    expect(markdown).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('makes no links or images from data values', () => {
    expect(markdown).not.toMatch(/(?<!\\)\[click(?<!\\)\]\(/);
    expect(markdown).not.toMatch(/!\[t\]\(/);
  });

  it('keeps each value on its own line, so it cannot start a heading or a new list item', () => {
    expect(markdown).not.toMatch(/^# heading/m);
  });
});
