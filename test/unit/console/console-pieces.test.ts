/** The console's pure parts: escaping, CSRF tokens, forms to SyncJobs (the plugin's builders), DST notes. */
import { describe, expect, it } from 'vitest';
import type { SyncFlow } from '../../../src/api/syncflow.js';
import type { SyncJob } from '../../../src/api/syncjob.js';
import { newExportJob, resolveJobFromForm, retransferJobFromForm, syncJobFromForm } from '../../../src/console/actions.js';
import { dstNote } from '../../../src/console/dst.js';
import { html, raw } from '../../../src/console/html.js';
import { bearerToken } from '../../../src/console/identity.js';
import { flowCard } from '../../../src/console/pages/flows.js';
import { CsrfTokens, sameOrigin } from '../../../src/console/security.js';

const form = (entries: [string, string][]) => new URLSearchParams(entries);

describe('html', () => {
  it('escapes every interpolated value, nested arrays too, and keeps Html as it is', () => {
    const evil = '<script>alert("x")</script>';
    expect(html`<p>${evil}</p>`.text).toBe('<p>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;</p>');
    expect(html`<a title="${`" onmouseover="x`}">${[html`<b>${'a&b'}</b>`, 'c<d']}</a>`.text).toBe('<a title="&#34; onmouseover=&#34;x"><b>a&#38;b</b>c&#60;d</a>');
    expect(html`${raw('<br>')}${undefined}${false}${0}`.text).toBe('<br>0');
  });
});

describe('CSRF tokens and the same-origin check', () => {
  it('a token is bound to its session and to this process', () => {
    const tokens = new CsrfTokens();
    const token = tokens.tokenFor('alice');
    expect(tokens.verify('alice', token)).toBe(true);
    expect(tokens.verify('bob', token)).toBe(false);
    expect(tokens.verify('alice', undefined)).toBe(false);
    expect(new CsrfTokens().verify('alice', token)).toBe(false);
  });

  it('refuses a post whose Origin or Sec-Fetch-Site is another site', () => {
    const req = (headers: Record<string, string>) => ({ headers: { host: 'console.example', ...headers } }) as never;
    expect(sameOrigin(req({ origin: 'http://console.example' }))).toBe(true);
    expect(sameOrigin(req({}))).toBe(true);
    expect(sameOrigin(req({ origin: 'https://evil.example' }))).toBe(false);
    expect(sameOrigin(req({ 'sec-fetch-site': 'cross-site' }))).toBe(false);
  });

  it('reads the bearer token from Authorization or the proxy header', () => {
    expect(bearerToken({ headers: { authorization: 'Bearer abc' } } as never)).toBe('abc');
    expect(bearerToken({ headers: { 'x-forwarded-access-token': 'def' } } as never)).toBe('def');
    expect(bearerToken({ headers: {} } as never)).toBeUndefined();
  });
});

describe('forms to SyncJobs, with the builders kubectl ferry uses', () => {
  it('Full, Incremental, scope and record from the flow card', () => {
    expect(syncJobFromForm('crm', 'members', form([['mode', 'Full']])).spec).toEqual({ flowRef: { name: 'members' }, mode: 'Full' });
    expect(syncJobFromForm('crm', 'members', form([['mode', 'scope:events']])).spec).toMatchObject({ mode: 'Scope', scope: 'events' });
    const record = syncJobFromForm('crm', 'members', form([['mode', 'Record'], ['entity', 'people'], ['key', '42']]), 'ann@example.org');
    expect(record.spec).toMatchObject({ mode: 'Record', record: { entity: 'people', key: '42' }, requestedBy: 'ann@example.org' });
    expect(record.metadata).toMatchObject({ generateName: 'members-record-', namespace: 'crm', labels: { 'ferry.dev/requested-via': 'ferry-console', 'ferry.dev/flow': 'members' } });
    expect(() => syncJobFromForm('crm', 'members', form([['mode', 'Record'], ['entity', 'people']]))).toThrow(/key is required/);
  });

  it('a per-field choice becomes KeepSource and KeepTarget of those fields; a whole-pair action stays one', () => {
    const perField = resolveJobFromForm('crm', 'church', form([['entity', 'people'], ['sourceKey', '1'], ['targetKey', '5000'], ['action', 'PerField'], ['keep.email', 'source'], ['keep.status', 'target']]));
    expect(perField.spec.resolutions).toEqual([
      { entity: 'people', sourceKey: '1', targetKey: '5000', action: 'KeepSource', fields: ['email'] },
      { entity: 'people', sourceKey: '1', targetKey: '5000', action: 'KeepTarget', fields: ['status'] },
    ]);
    expect(resolveJobFromForm('crm', 'church', form([['entity', 'people'], ['sourceKey', '1'], ['targetKey', '5000'], ['action', 'Link']])).spec.resolutions).toEqual([
      { entity: 'people', sourceKey: '1', targetKey: '5000', action: 'Link' },
    ]);
  });

  it('re-transfers to the ticked destinations, or all; a snapshot export runs Full', () => {
    const original = { metadata: { name: 'loyalty-1', namespace: 'crm' }, spec: { flowRef: { name: 'loyalty' }, mode: 'Full' }, status: { runId: 'r1' } } as SyncJob;
    expect(retransferJobFromForm(original, form([['target', 'backup']])).spec.retransfer).toEqual({ runId: 'r1', targets: ['backup'] });
    expect(retransferJobFromForm(original, form([])).spec.retransfer).toEqual({ runId: 'r1' });
    const flow = { metadata: { name: 'loyalty' }, spec: { target: { export: { mode: 'Snapshot' } } } } as unknown as SyncFlow;
    expect(newExportJob('crm', flow).spec.mode).toBe('Full');
  });
});

describe('the flow card', () => {
  const flow = { metadata: { name: 'members' }, spec: { direction: 'OneWay', entities: [{ name: 'people' }], scopes: [{ name: 'events' }] }, status: {} } as unknown as SyncFlow;
  const access = { startRuns: true, editFlows: true, download: true };
  const active = { metadata: { name: 'members-full-abc', creationTimestamp: '2026-11-30T08:00:00Z' }, spec: { flowRef: { name: 'members' }, mode: 'Full' }, status: { phase: 'Running', startedAt: '2026-11-30T08:00:00Z', estimate: { seconds: 100, basis: 'last 3 runs' } } } as unknown as SyncJob;

  it('while a run is active every start button is disabled, with a tooltip naming the run and since when', () => {
    const card = flowCard({ flow, active, access, csrf: 't', namespace: 'crm', now: new Date('2026-11-30T08:00:50Z') }).text;
    const buttons = card.match(/<button[^>]*>/g)!;
    expect(buttons).toHaveLength(4);
    for (const button of buttons) expect(button).toMatch(/disabled title="members is already syncing: members-full-abc, running since \d\d:\d\d"/);
    expect(card).toContain('Syncing');
    expect(card).toMatch(/<progress max="100" value="50">/);
    expect(card).toContain('~1m40s (last 3 runs)');
  });

  it('without the right to create SyncJobs there are no buttons', () => {
    const card = flowCard({ flow, access: { ...access, startRuns: false }, csrf: 't', namespace: 'crm', now: new Date() }).text;
    expect(card).not.toContain('<button');
    expect(card).toContain('starting runs takes the ferry-edit role');
  });
});

describe('daylight saving notes', () => {
  const now = new Date('2027-01-10T00:00:00Z');
  it('a slot in the spring-forward gap says when it runs instead; one in the repeated hour says it runs once', () => {
    expect(dstNote('30 2 * * *', 'Europe/Berlin', now)).toBe('02:30 does not exist on 2027-03-28 in Europe/Berlin (clocks go forward): that run happens at 2027-03-28 03:00 GMT+2 instead.');
    expect(dstNote('30 2 * * *', 'Europe/Berlin', new Date('2027-04-01T00:00:00Z'))).toBe('02:30 happens twice on 2027-10-31 in Europe/Berlin (clocks go back): the schedule runs once, at the first 02:30.');
    expect(dstNote('30 2 * * *', 'Europe/Berlin', new Date('2026-11-30T21:05:37.123Z'))).toMatch(/^02:30 does not exist on 2027-03-28/);
    expect(dstNote('0 4 * * *', 'Europe/Berlin', now)).toBeUndefined();
    expect(dstNote('30 2 * * *', 'UTC', now)).toBeUndefined();
  });
});
