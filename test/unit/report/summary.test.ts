import { describe, expect, it } from 'vitest';
import { totalsOf, type RunReport } from '../../../src/engine/report.js';
import { renderReportEmail } from '../../../src/notify/report-email.js';
import { renderReport } from '../../../src/report/formats.js';
import { renderRunSummary } from '../../../src/report/run-summary.js';
import { demoFullReport, entityReport, exportReport, failedReport, IDLE_LOOKUPS, partialRejectsReport, TARGET_PASSWORD } from '../../helpers/run-reports.js';

const job = { namespace: 'default', flow: 'association', syncJob: 'association-full-x7k2p', mode: 'Full', requestedBy: 'ann@example.org' };
const CONSOLE = 'https://ferry.example.org/console';

/** The HTML part's visible text, roughly as a reader sees it. */
function visibleText(html: string): string {
  return html
    .replace(/<title>.*?<\/title>/s, '')
    .replace(/<wbr>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('the run summary e-mail', () => {
  it('success: one line first, the entities that changed with their non-zero counts, the idle ones in one line', () => {
    const mail = renderReportEmail({ ...job, phase: 'Succeeded', report: demoFullReport(), consoleUrl: CONSOLE });
    const headline = '2,000 people and 8,876 related rows created in 1.7 s';
    expect(mail.subject).toBe('[Ferry] default/association: Full sync succeeded');
    expect(mail.text.split('\n')[0]).toBe(headline);
    expect(mail.html).toMatch(new RegExp(`<h1 data-summary="headline"[^>]*>${headline}</h1>`));
    for (const body of [mail.text, visibleText(mail.html)]) {
      expect(body).toContain('people');
      expect(body).toContain('2,000 created');
      expect(body).toContain('related_events');
      expect(body).toContain('366 created');
      expect(body).toContain('No changes in 31 entities: lookup_01, lookup_02');
      expect(body).toContain('and 23 more (124 rows read, all in sync)');
      expect(body).toContain('requested by ann@example.org');
      expect(body).toContain('kubectl ferry report association-full-x7k2p -n default');
      // No zero counters and no idle entity in the list of changes.
      expect(body).not.toMatch(/\b0 (created|updated|rejected|archived|deleted)\b/);
      expect(body).not.toContain('lookup_30');
    }
    // Not a 54-row table: the 12 entities that changed most, the other 11 and the 31 idle ones in a line each.
    expect(mail.text.split('\n').filter((l) => /^\s{2}\S+\s+[\d,]+ created\s+[\d,]+ read/.test(l))).toHaveLength(12);
    for (const body of [mail.text, visibleText(mail.html)]) expect(body).toContain('11 more entities changed: 1,710 rows (1,710 created)');
    expect(mail.text).not.toMatch(/^\s+firms\s/m);
    expect(mail.html.match(/<tr>/g)?.length).toBeLessThan(40);
    expect(mail.text).toContain(`Open this run in the Ferry console: ${CONSOLE}/runs/association-full-x7k2p?ns=default`);
    expect(mail.html).toContain(`href="${CONSOLE}/runs/association-full-x7k2p?ns=default"`);
    expect(mail.html).not.toMatch(/<style|<link|<script|src=/i);
  });

  it('partial rejects: the count in the subject and headline, the first five reasons, and how many more', () => {
    const mail = renderReportEmail({ ...job, mode: 'Incremental', phase: 'Succeeded', report: partialRejectsReport() });
    expect(mail.subject).toBe('[Ferry] default/association: Incremental sync succeeded, 12 rows rejected');
    expect(mail.text.split('\n')[0]).toBe('231 people and 49 related rows changed (52 created, 228 updated) in 420 ms; 12 rows rejected');
    for (const body of [mail.text, visibleText(mail.html)]) {
      expect(body).toContain('Succeeded, some rows rejected');
      expect(body).toContain('Rejected rows (12)');
      expect(body).toContain('column email: value too long for type character varying(120)');
      for (const key of ['1000', '1001', '1002', '1003', '1004']) expect(body).toContain(key);
      expect(body).not.toContain('1005');
      expect(body).toContain('… and 7 more rows, each with its reason, in the full report');
      expect(body).toContain('3 created, 228 updated, 9 rejected');
      expect(body).toContain('No changes in 5 entities');
    }
    // No console address configured: no link.
    expect(mail.html).not.toContain('data-summary="link"');
    expect(mail.text).not.toContain('console:');
  });

  it('failure: what failed and why first, with no password in either part', () => {
    const mail = renderReportEmail({ ...job, phase: 'Failed', reason: 'EngineError', report: failedReport(), secrets: ['Connection terminated'] });
    expect(mail.subject).toBe('[Ferry] default/association: Full sync failed (EngineError)');
    const first = mail.text.split('\n')[0];
    expect(first).toBe('Failed after 5.0 s: cannot connect to the target database at postgres://ferry:***@db.internal:5432/website: *** unexpectedly (before it stopped: 500 people created)');
    for (const body of [mail.subject, mail.text, mail.html]) {
      expect(body).not.toContain(TARGET_PASSWORD);
      expect(body).not.toContain('hunter2');
      expect(body).not.toContain('Connection terminated');
    }
    for (const body of [mail.text, visibleText(mail.html)]) {
      // Said once, in the headline.
      expect(body.split('cannot connect to the target database at postgres://ferry:***@db.internal')).toHaveLength(2);
      expect(body).toContain('500 created');
      expect(body).toContain('No changes in 4 entities');
    }
    expect(mail.text.split('\n')[2]).toBe('FAILED · default/association · Full sync · requested by ann@example.org');
    expect(mail.html).toMatch(/data-summary="status"[^>]*>Failed</);
    expect(mail.html).not.toContain('data-summary="error"');
  });

  it('a SyncJob that failed before the run wrote a report says so, with its reason', () => {
    const mail = renderReportEmail({ ...job, phase: 'Failed', reason: 'DeadlineExceeded', message: 'the Job ran longer than activeDeadlineSeconds (21600)' });
    expect(mail.text.split('\n')[0]).toBe('Failed before any report was written: DeadlineExceeded: the Job ran longer than activeDeadlineSeconds (21600)');
    expect(visibleText(mail.html)).toContain('Failed before any report was written: DeadlineExceeded');
    expect(mail.text).toContain('Flow: default/association');
  });

  it('export runs: files with rows and checksums, and the transfer per destination', () => {
    const mail = renderReportEmail({ ...job, flow: 'loyalty-export', mode: 'Changes', phase: 'Failed', reason: 'TransferFailed', report: exportReport() });
    expect(mail.subject).toBe('[Ferry] default/loyalty-export: Changes export failed (TransferFailed)');
    expect(mail.text.split('\n')[0]).toBe('2 files (1,500 rows) created; transfer failed to partner-ftps (1 of 2 destinations succeeded) in 1.7 s');
    for (const body of [mail.text, visibleText(mail.html)]) {
      expect(body).toContain('members-20261122.csv.gz');
      expect(body).toContain('1,200');
      expect(body).toContain('aaaaaaaaaaaa');
      expect(body).toMatch(/backup-sftp:? transferred/);
      expect(body).toContain('failed: members-20261122.csv.gz: AuthFailed: 530 Login incorrect');
      expect(body).toMatch(/2 of 2( files)?/);
    }
    expect(mail.text).toContain('(0 of 2 files, 0 bytes)');
    // The headline does not carry the run's error here, so it is shown once below it.
    expect(mail.text).toContain('Error: file created, 2 of 4 transfers failed');
    expect(mail.html).toContain('data-summary="error"');
    // An export lists files, not entity counters.
    expect(mail.text).not.toContain('What changed');
  });
});

describe('one summary for the e-mail, -o html, -o markdown and the console', () => {
  it('-o markdown and -o html start with the same summary, then list every entity', () => {
    const report = demoFullReport();
    const markdown = renderReport(report, 'markdown');
    expect(markdown.split('\n')[0]).toBe('**2,000 people and 8,876 related rows created in 1.7 s**');
    expect(markdown).toContain('| people | 2,000 created | 2,000 | 610 ms |');
    expect(markdown).toContain('#### All entities');
    expect(markdown).toContain('| lookup\\_31 | 4 | 0 | 0 | 4 | 0 | 0 | 0 | 4 ms |');
    const html = renderReport(report, 'html');
    expect(html.startsWith('<table role="presentation"')).toBe(true);
    expect(html).toContain('>2,000 people and 8,876 related rows created in 1.7 s</h1>');
    expect(html).toContain('All entities');
  });

  it('the console gets the same markup with class names only (its CSP refuses inline styles) and the structured model', () => {
    const rendered = renderRunSummary(partialRejectsReport(), { namespace: 'default', syncJob: 'j1', consoleUrl: CONSOLE, requestedBy: 'bob' });
    const forConsole = rendered.toHtml({ inlineStyles: false });
    expect(forConsole).not.toContain('style=');
    expect(forConsole).toContain('class="ferry-summary-headline"');
    expect(rendered.toHtml()).toContain('style=');
    expect(rendered.summary).toMatchObject({
      outcome: 'SucceededWithRejects',
      requestedBy: 'bob',
      rejected: { total: 12, more: 7 },
      link: { href: `${CONSOLE}/runs/j1?ns=default` },
    });
    expect(rendered.summary.changed.map((e) => e.name)).toEqual(['people', 'registrations']);
    expect(JSON.parse(JSON.stringify(rendered.summary))).toEqual(rendered.summary);
  });

  it('headlines for a run with nothing to do, a dry run and a two-way run', () => {
    const idle = [entityReport('people', { read: 40, unchanged: 40 })];
    const base: RunReport = { ...demoFullReport(), entities: idle, totals: totalsOf(idle) };
    expect(renderRunSummary(base).summary.headline).toBe('Already in sync: 40 rows checked in 1.7 s, nothing to change');
    const one = [entityReport('people', { read: 1, updated: 1 })];
    expect(renderRunSummary({ ...base, entities: one, totals: totalsOf(one) }).summary.headline).toBe('1 row of people updated in 1.7 s');
    const dry = [entityReport('people', { read: 3, created: 2, updated: 1 })];
    expect(renderRunSummary({ ...base, dryRun: true, entities: dry, totals: totalsOf(dry) }).summary.headline).toBe(
      'Dry run, nothing written: 3 people changed (2 created, 1 updated) in 1.7 s',
    );
    const twoWay = [
      entityReport('people', {
        read: 10,
        updated: 2,
        twoWay: { createdInSource: 0, createdInTarget: 0, updatedSource: 1, updatedTarget: 1, archivedSource: 0, archivedTarget: 0, deletedSource: 0, deletedTarget: 0, conflicts: 1, blocked: 0, released: 0, echoes: 3, unpaired: 0 },
      }),
    ];
    const summary = renderRunSummary({ ...base, entities: twoWay, totals: totalsOf(twoWay) }).summary;
    expect(summary.notes.lines[0]).toBe("people: → target: 1 updated · ← source: 1 updated · 1 conflicts left for resolution · 3 echoes of Ferry's own writes ignored");
  });

  it('escapes values from the data in HTML, Markdown and the link', () => {
    const hostile = '<img src=x onerror=alert(1)>[click](https://evil.example)';
    const people = entityReport(hostile, { read: 1, rejected: 1 });
    const report: RunReport = { ...demoFullReport(), entities: [people], totals: totalsOf([people]), rejectedSamples: [{ entity: hostile, key: hostile, reason: hostile }] };
    const rendered = renderRunSummary(report, { namespace: 'a"b', syncJob: '<j>', consoleUrl: CONSOLE, requestedBy: hostile });
    for (const html of [rendered.toHtml(), rendered.toHtml({ inlineStyles: false }), rendered.toHtmlDocument(hostile)]) {
      expect(html).not.toMatch(/<img/i);
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
    expect(rendered.toHtml()).toContain(`href="${CONSOLE}/runs/%3Cj%3E?ns=a%22b"`);
    const markdown = rendered.toMarkdown();
    expect(markdown).not.toMatch(/<img/i);
    expect(markdown).not.toMatch(/(?<!\\)\[click(?<!\\)\]\(/);
  });
});

describe('run-level notes (about the run, not one entity)', () => {
  const note = 'ran the admitted SyncFlow spec (generation 3); the flow is now at generation 5';

  it('come first among the notes of the e-mail (text and HTML), -o markdown, -o html and the table', () => {
    const report: RunReport = { ...partialRejectsReport(), notes: [note] };
    const mail = renderReportEmail({ ...job, mode: 'Incremental', phase: 'Succeeded', report });
    for (const body of [mail.text, visibleText(mail.html)]) expect(body).toContain(note);
    expect(renderRunSummary(report).summary.notes.lines[0]).toBe(note);
    expect(renderReport(report, 'markdown')).toContain(`- ${note}`);
    expect(visibleText(renderReport(report, 'html'))).toContain(note);
    expect(renderReport(report, 'table')).toContain(`note: ${note}`);
    expect(JSON.parse(renderReport(report, 'json')).notes).toEqual([note]);
  });

  it('are shown for export runs too, and absent when the run has none', () => {
    const mail = renderReportEmail({ ...job, flow: 'loyalty-export', mode: 'Changes', phase: 'Failed', reason: 'TransferFailed', report: { ...exportReport(), notes: [note] } });
    expect(mail.text).toContain(note);
    expect(renderRunSummary(partialRejectsReport()).summary.notes.lines).not.toContain(note);
    expect(renderReport(partialRejectsReport(), 'table')).not.toMatch(/^note: ran /m);
  });
});
