import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../../src/engine/report.js';
import { sendEmail, smtpSettingsFromSecret } from '../../../src/notify/mailer.js';
import { renderReportEmail } from '../../../src/notify/report-email.js';
import { scrubSecrets } from '../../../src/report/scrub.js';
import { startSmtpSink } from '../../e2e/fixtures/smtp-sink.js';

const report: RunReport = {
  runId: 'crm-full.abcd1234.x',
  flow: 'sync/crm',
  mode: 'Full',
  dryRun: false,
  status: 'Failed',
  startedAt: '2026-01-01T10:00:00Z',
  completedAt: '2026-01-01T10:00:05Z',
  durationMs: 5000,
  watermarksBefore: {},
  watermarksAfter: {},
  entities: [{ name: 'people', read: 7, created: 5, updated: 1, unchanged: 1, archived: 0, deleted: 0, rejected: 1, linked: 0, skipped: 0, sourceGone: 0, durationMs: 4000, notes: [] }],
  totals: { read: 7, created: 5, updated: 1, unchanged: 1, archived: 0, deleted: 0, rejected: 1, linked: 0, skipped: 0, sourceGone: 0 },
  rejectedSamples: [{ entity: 'people', key: '13', reason: 'full_name: value too long for varchar(20)' }],
  error: 'cannot connect to the target database at postgres://ferry:hunter2@db:5432/crm: timeout',
};

describe('report e-mail', () => {
  it('renders text and HTML without credentials', () => {
    const email = renderReportEmail({ namespace: 'sync', flow: 'crm', syncJob: 'crm-full', mode: 'Full', phase: 'Failed', reason: 'EngineError', requestedBy: 'ann@example.org', report, secrets: ['s3cr3t-token'] });
    expect(email.subject).toBe('[Ferry] sync/crm: Full sync failed (EngineError)');
    for (const body of [email.text, email.html]) {
      expect(body).toContain('Failed after 5.0 s: cannot connect to the target database');
      expect(body).toContain('people');
      expect(body).toContain('5 created');
      expect(body).toContain('full_name: value too long for varchar(20)');
      expect(body).toContain('ann@example.org');
    }
    expect(email.html).toMatch(/^<!doctype html>/);
    expect(email.html).toContain('data-summary="rejected"');
    for (const body of [email.text, email.html]) {
      expect(body).not.toContain('hunter2');
      expect(body).toContain('postgres://ferry:***@db');
    }
    expect(scrubSecrets('token s3cr3t-token here', ['s3cr3t-token'])).toBe('token *** here');
  });

  it('reads SMTP settings from a Secret', () => {
    expect(smtpSettingsFromSecret({ url: 'smtps://u%40x:p%2Fw@mail.example.org', from: 'ferry@example.org' }, 'smtp')).toMatchObject({ host: 'mail.example.org', port: 465, secure: true, username: 'u@x', password: 'p/w' });
    expect(smtpSettingsFromSecret({ host: 'mail', from: 'f@example.org' }, 'smtp')).toMatchObject({ host: 'mail', port: 587, secure: false });
    expect(() => smtpSettingsFromSecret({ host: 'mail' }, 'smtp')).toThrow(/no key "from"/);
  });

  it('sends through a real SMTP server, and fails while it is down', async () => {
    const sink = await startSmtpSink();
    try {
      const smtp = { host: '127.0.0.1', port: sink.port, secure: false, from: 'ferry@example.org' };
      const content = renderReportEmail({ namespace: 'sync', flow: 'crm', syncJob: 'crm-full', mode: 'Full', phase: 'Succeeded', report: { ...report, status: 'Succeeded', error: undefined } });
      await sink.down();
      await expect(sendEmail(smtp, ['ann@example.org'], content, 'uid-1')).rejects.toThrow();
      await sink.up();
      await sendEmail(smtp, ['ann@example.org', 'admin@example.org'], content, 'uid-1');
      expect(sink.messages).toHaveLength(1);
      expect(sink.messages[0].to).toEqual(['ann@example.org', 'admin@example.org']);
      expect(sink.messages[0].raw).toContain('Message-ID: <uid-1@ferry.dev>');
      expect(sink.messages[0].raw).toMatch(/multipart\/alternative/);
    } finally {
      await sink.close();
    }
  });
});
