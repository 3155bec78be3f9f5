/**
 * The Ferry console in Debian's chromium (playwright-core), against the e2e kube-apiserver, the
 * controller, the job-runner fixture and the data API through the aggregation layer. Users sign in
 * as a sign-in proxy would forward them: a bearer token the API server knows (ferry-e2e-editor with
 * the chart's ferry-view + ferry-edit roles, ferry-e2e-viewer with ferry-view).
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SyncFlow } from '../../src/api/syncflow.js';
import type { SyncJob } from '../../src/api/syncjob.js';
import { startClusterConsole, type RunningConsole } from '../../src/console/start.js';
import type { Controller } from '../../src/controller/controller.js';
import type { Kube } from '../../src/controller/kube.js';
import type { LoopbackSftpServer } from '../../src/export/loopback/sftp-server.js';
import { withClient } from '../helpers/databases.js';
import { renderChart } from '../unit/delivery/helm.js';
import { accessibilityViolations, chromiumAvailable, launchChromium, screenshot, type AxeViolation } from './fixtures/browser.js';
import { startDataApiFixture, type DataApiFixture } from './fixtures/data-api.js';
import {
  flowManifest,
  holdSourceTable,
  jobManifest,
  kubeconfigPath,
  miniFlowDatabases,
  namespaceWithStateDb,
  startController,
  waitFor,
  waitForPhase,
} from './fixtures/env.js';
import { startJobRunner, type JobRunner } from './fixtures/job-runner.js';
import { loyaltyExportFlow } from './fixtures/loyalty-export.js';
import { churchWithConflict } from './fixtures/manual-conflict.js';

const ns = 'e2e-console';
const SFTP_PASSWORD = 'console-sftp-secret';
const secretValues: string[] = [SFTP_PASSWORD];
let kube: Kube;
let stateUrl: string;
let membersSource: string;
let church: string;
let accounts: string;
let dataApi: DataApiFixture;
let controller: Controller;
let runner: JobRunner | undefined;
let sftp: LoopbackSftpServer;
let sftpRoot: string;
let consoleServer: RunningConsole;
let base: string;
let proxy: { port: number; close: () => Promise<void> };
let browser: Browser;
const violations: { page: string; violations: AxeViolation[] }[] = [];
const foreignRequests: string[] = [];
const cspErrors: string[] = [];
const pagesSeen: string[] = [];

const row = async (url: string, sql: string) => withClient(url, async (c) => (await c.query(sql)).rows[0]);

async function runToEnd(name: string, flow: string): Promise<SyncJob> {
  await kube.create('SyncJob', jobManifest(ns, name, flow, { mode: 'Full' }));
  const job = await waitForPhase(kube, ns, name, ['Succeeded', 'Failed'], 150_000);
  expect(job.status?.phase, job.status?.message).toBe('Succeeded');
  return job;
}

/** The chart's own ferry-view and ferry-edit ClusterRoles, bound in the test namespace. */
async function chartRbac(): Promise<void> {
  const roles = renderChart().filter((o) => o.kind === 'ClusterRole' && ['ferry-view', 'ferry-edit'].includes(o.metadata.name));
  expect(roles.map((r) => r.metadata.name).sort()).toEqual(['ferry-edit', 'ferry-view']);
  const binding = (role: string, user: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${role}-${user}`, namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  const objects = k8s.KubernetesObjectApi.makeApiClient(kube.config);
  for (const object of [...roles, binding('ferry-view', 'ferry-e2e-viewer'), binding('ferry-view', 'ferry-e2e-editor'), binding('ferry-edit', 'ferry-e2e-editor')]) {
    await objects.create(object as k8s.KubernetesObject).catch((error) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
  }
}

async function exportSetup(): Promise<void> {
  let sourceUrl: string;
  ({ sourceUrl, sftp, sftpRoot } = await loyaltyExportFlow(kube, ns, {
    databasePrefix: 'e2e_console_loyalty',
    sftpRootPrefix: 'ferry-console-sftp-',
    sftpPassword: SFTP_PASSWORD,
    targets: [
      { name: 'partner', directory: '/inbox' },
      { name: 'backup', directory: '/backup' },
    ],
    schedules: [{ name: 'nightly', cron: '30 2 * * *', timeZone: 'Europe/Berlin', mode: 'Full', suspend: true }],
  }));
  secretValues.push(sourceUrl, new URL(sourceUrl).password);
}

/**
 * A FAKE sign-in proxy, standing in for oauth2-proxy: it does what oauth2-proxy does in front of the
 * console (the browser holds a session cookie, the proxy adds the user's bearer token to each request
 * it passes on: pages, form posts, downloads, event streams), without OIDC. oauth2-proxy is a Go
 * binary with no npm package, so it cannot run here; the chart's console objects are installed with
 * Helm into a real API server in helm-install.test.ts.
 */
async function startFakeSignInProxy(upstreamPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const tokens = inject('kubeUserTokens');
  const server = createServer((req, res) => {
    const user = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const headers = { ...req.headers };
    delete headers.authorization;
    if (user && tokens[user]) headers.authorization = `Bearer ${tokens[user]}`;
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** A browser context signed in as `user` through the sign-in proxy. */
async function signedIn(user: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true });
  await context.addCookies([{ name: 'session', value: user, url: base }]);
  const page = await context.newPage();
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:')) foreignRequests.push(request.url());
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspErrors.push(message.text());
  });
  return { context, page };
}

/** Visits a page: screenshot, accessibility scan, and its HTML kept for the secrets check. */
async function visit(page: Page, path: string, shot?: string): Promise<void> {
  const response = await page.goto(`${base}${path}`);
  expect(response?.status(), path).toBe(200);
  await check(page, shot ?? path);
}

async function check(page: Page, name: string, shot = true): Promise<void> {
  if (shot) await screenshot(page, name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, ''));
  violations.push({ page: name, violations: await accessibilityViolations(page) });
  pagesSeen.push(await page.content());
}

const flowCard = (page: Page, flow: string) => page.locator(`#flow-${flow}`);

/** Clicks a form's button and expects the console to accept the action (303), or fails with its answer. */
async function submit(page: Page, button: Locator): Promise<void> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), button.click()]);
  if (response.status() !== 303) throw new Error(`the console answered ${response.status()}: ${(await response.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
  await page.waitForLoadState('load');
}

beforeAll(async () => {
  ({ kube, stateUrl } = await namespaceWithStateDb(ns, 'e2e_console_state'));
  secretValues.push(stateUrl);
  dataApi = await startDataApiFixture(kube, kubeconfigPath(), stateUrl);
  await chartRbac();
  ({ sourceUrl: membersSource } = await miniFlowDatabases(kube, ns, 'members'));
  secretValues.push(membersSource);
  await kube.create<SyncFlow>('SyncFlow', flowManifest(ns, 'members', { scopes: [{ name: 'firms_only', entities: ['firms'] }] } as never));
  await exportSetup();
  controller = await startController(ns, stateUrl);
  runner = await startJobRunner(ns);
  let churchRuns = 0;
  ({ church, accounts } = await churchWithConflict(kube, ns, () => runToEnd(`church-${++churchRuns}`, 'church').then(() => undefined), 'e2e_console'));
  secretValues.push(church, accounts);
  await runToEnd('loyalty-1', 'loyalty');
  // Without the runner (the kubelet of this test) a new run stays Scheduled until the test starts one.
  await runner.stop();
  runner = undefined;

  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeconfigPath());
  const cluster = config.getCurrentCluster()!;
  consoleServer = await startClusterConsole({
    cluster: { server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: cluster.skipTLSVerify },
    namespace: ns,
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: process.env.FERRY_E2E_LOG ?? 'silent' }),
  });
  proxy = await startFakeSignInProxy(consoleServer.port);
  base = `http://127.0.0.1:${proxy.port}`;
  browser = await launchChromium();
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await consoleServer?.stop();
  await controller?.stop();
  await runner?.stop();
  await sftp?.close();
  await dataApi?.stop();
});

describe.skipIf(!chromiumAvailable())('the Ferry console in chromium', () => {
  it('without a token it shows the sign-in page and no data', async () => {
    const response = await fetch(`http://127.0.0.1:${consoleServer.port}/?ns=${ns}`);
    expect(response.status).toBe(401);
    const body = await response.text();
    expect(body).toContain('Sign in');
    expect(body).not.toContain('members');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
  });

  it('an editor starts a Full run on the Flows page and watches it go Scheduled → Syncing → Succeeded, with every button disabled meanwhile, without a reload', async () => {
    const { context, page } = await signedIn('ferry-e2e-editor');
    await visit(page, `/?ns=${ns}`, 'flows');
    const card = flowCard(page, 'members');
    await expect.poll(() => card.locator('button:enabled').count()).toBeGreaterThanOrEqual(4);
    await submit(page, card.getByRole('button', { name: 'Full sync' }));
    await page.waitForURL(/started=/);
    const jobName = new URL(page.url()).searchParams.get('started')!;
    expect(jobName).toMatch(/^members-full-/);

    // From here on the page must update itself: record what it shows, and mark the document to detect a reload.
    await page.evaluate(() => {
      const w = window as unknown as { __states: { phase: string; enabled: number; title: string }[]; __marker: boolean };
      w.__marker = true;
      w.__states = [];
      const record = () => {
        const card = document.getElementById('flow-members');
        if (!card) return;
        const phase = card.querySelector('[data-testid="phase"]')?.textContent ?? 'none';
        const buttons = [...card.querySelectorAll('button')];
        const last = w.__states[w.__states.length - 1];
        const state = { phase, enabled: buttons.filter((b) => !b.disabled && !b.closest('fieldset:disabled')).length, title: buttons[0]?.title ?? '' };
        if (!last || last.phase !== state.phase || last.enabled !== state.enabled) w.__states.push(state);
      };
      record();
      new MutationObserver(record).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await card.locator('[data-testid="phase"]', { hasText: 'Scheduled' }).waitFor({ timeout: 60_000 });
    expect(await card.getByRole('button', { name: 'Full sync' }).getAttribute('title')).toMatch(new RegExp(`^members is already syncing: ${jobName}, scheduled since \\d\\d:\\d\\d$`));
    await check(page, 'flows-scheduled');

    // The run starts and hangs on a locked table: Syncing, still no button to press.
    const release = await holdSourceTable(membersSource);
    try {
      runner = await startJobRunner(ns);
      await card.locator('[data-testid="phase"]', { hasText: 'Syncing' }).waitFor({ timeout: 90_000 });
      await screenshot(page, 'flows-syncing');
      expect(await card.locator('button:enabled').count()).toBe(0);
    } finally {
      await release();
    }
    const finished = await waitForPhase(kube, ns, jobName, ['Succeeded', 'Failed'], 150_000);
    expect(finished.status?.phase, finished.status?.message).toBe('Succeeded');
    await card.locator('[data-testid="phase-none"]').waitFor({ timeout: 60_000 });
    await expect.poll(() => card.locator('table').textContent()).toContain(jobName);
    expect(await card.locator('tr', { hasText: jobName }).textContent()).toContain('Succeeded');
    const states = (await page.evaluate('window.__states')) as { phase: string; enabled: number }[];
    const phases = states.map((s) => s.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases.indexOf('Scheduled')).toBeGreaterThanOrEqual(0);
    expect(phases.indexOf('Syncing')).toBeGreaterThan(phases.indexOf('Scheduled'));
    expect(phases.at(-1)).toBe('none');
    for (const state of states.filter((s) => s.phase !== 'none')) expect(state.enabled, JSON.stringify(states)).toBe(0);
    expect(states.at(-1)!.enabled).toBeGreaterThanOrEqual(4);
    expect(await page.evaluate('window.__marker')).toBe(true);
    const job = (await kube.get<SyncJob>('SyncJob', ns, jobName))!;
    expect(job.metadata.labels?.['ferry.dev/requested-via']).toBe('ferry-console');

    await visit(page, `/runs/${jobName}?ns=${ns}`, 'run');
    await expect.poll(() => page.getByTestId('run-phase').textContent()).toBe('Succeeded');
    await context.close();
  });

  it('an editor resolves a conflict in the synchronization window, one field from each side; both databases get the chosen values', async () => {
    const { context, page } = await signedIn('ferry-e2e-editor');
    await visit(page, `/flows/church/window?ns=${ns}&category=conflict`, 'synchronization-window');
    const conflict = page.locator('article.conflict', { hasText: 'people 1 ↔ 5000' });
    await expect.poll(() => conflict.textContent()).toMatch(/ann@church\.example[\s\S]*ann@accounts\.example/);
    expect(await conflict.textContent()).toMatch(/Elder[\s\S]*Donor/);
    await conflict.getByLabel('ann@church.example').check();
    await conflict.getByLabel('Donor').check();
    await submit(page, conflict.getByRole('button', { name: 'Resolve with the chosen values' }));
    await page.waitForURL(/\/runs\/church-resolve-/);
    const jobName = page.url().split('/runs/')[1].split('?')[0];
    await expect.poll(() => page.getByTestId('run-phase').textContent(), { timeout: 150_000, interval: 1000 }).toBe('Succeeded');
    await check(page, 'run-resolve');
    const job = (await kube.get<SyncJob>('SyncJob', ns, jobName))!;
    expect(job.spec.resolutions).toEqual([
      { entity: 'people', sourceKey: '1', targetKey: '5000', action: 'KeepSource', fields: ['email'] },
      { entity: 'people', sourceKey: '1', targetKey: '5000', action: 'KeepTarget', fields: ['status'] },
    ]);
    expect(await row(church, `SELECT email, status FROM people`)).toEqual({ email: 'ann@church.example', status: 'Donor' });
    expect(await row(accounts, `SELECT mail, category FROM persons`)).toEqual({ mail: 'ann@church.example', category: 'Donor' });
    await visit(page, `/flows/church/window?ns=${ns}&category=synchronised`, 'synchronization-window-synchronised');
    expect(await page.locator('table', { hasText: 'Pairs in synchronised' }).textContent()).toMatch(/people\s*1\s*5000/);
    await context.close();
  });

  it('an editor downloads an export file whose SHA-256 matches the one shown, and re-transfers it to one destination', async () => {
    const { context, page } = await signedIn('ferry-e2e-editor');
    await visit(page, `/flows/loyalty/exports?ns=${ns}`, 'exports');
    const instance = page.locator('article.instance', { hasText: 'loyalty-1' });
    const transfers = await instance.locator('.transfers').textContent();
    expect(transfers).toContain('partner: Succeeded');
    expect(transfers).toContain('backup: Succeeded');
    const shown = (await instance.getByTestId('sha256').first().textContent())!.trim();
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    const link = instance.getByRole('link', { name: /Download people_001/ });
    const direct = await page.request.get(`${base}${await link.getAttribute('href')}`);
    expect(direct.status(), await direct.text().catch(() => '')).toBe(200);
    expect(direct.headers()['x-ferry-sha256']).toBe(shown);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = await download.path().catch(async (error: unknown) => {
      throw new Error(`the browser's download failed (${await download.failure()}): ${error}`);
    });
    const bytes = readFileSync(saved);
    expect(bytes.equals(await direct.body())).toBe(true);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(shown);
    expect(bytes.equals(readFileSync(join(sftpRoot, 'inbox', 'people_001.csv.gz')))).toBe(true);
    // DST: the nightly 02:30 Europe/Berlin slot does not exist on the spring-forward day; the page says what happens instead.
    expect(await page.locator('.dst').first().textContent()).toMatch(/02:30 does not exist on \d{4}-03-\d\d in Europe\/Berlin \(clocks go forward\): that run happens at \d{4}-03-\d\d 03:00/);

    const before = (await kube.list<SyncJob>('SyncJob', ns)).items.length;
    await instance.getByLabel('backup').check();
    await submit(page, instance.getByRole('button', { name: 'Transfer file(s)' }));
    await page.waitForURL(/\/flows\/loyalty\/exports/);
    const retransfer = await waitFor('the Retransfer SyncJob', async () => (await kube.list<SyncJob>('SyncJob', ns)).items.find((j) => j.spec.mode === 'Retransfer'));
    expect(retransfer.spec.retransfer).toMatchObject({ targets: ['backup'] });
    expect((await kube.list<SyncJob>('SyncJob', ns)).items.length).toBe(before + 1);
    const resent = page.locator('article.instance', { hasText: retransfer.metadata.name });
    await expect.poll(() => resent.locator('.transfers').textContent().catch(() => ''), { timeout: 150_000, interval: 1000 }).toMatch(/backup: Succeeded/);
    expect(await resent.locator('.transfers').textContent()).not.toContain('partner');
    await check(page, 'exports-retransferred');
    await visit(page, `/exports?ns=${ns}`, 'exports-index');
    await context.close();
  });

  it('a viewer sees no action buttons, and a forged action is refused by the API server', async () => {
    const { context, page } = await signedIn('ferry-e2e-viewer');
    await visit(page, `/?ns=${ns}`, 'flows-viewer');
    expect(await page.getByRole('button', { name: 'Full sync' }).count()).toBe(0);
    expect(await flowCard(page, 'members').textContent()).toContain('starting runs takes the ferry-edit role');
    await visit(page, `/flows/church/window?ns=${ns}&category=synchronised`, 'window-viewer');
    expect(await page.getByRole('button').filter({ hasText: /Deactivate|Unlink|Link/ }).count()).toBe(0);
    await visit(page, `/flows/loyalty/exports?ns=${ns}`, 'exports-viewer');
    expect(await page.getByRole('button', { name: /Transfer file|Process new sync/ }).count()).toBe(0);

    const before = (await kube.list<SyncJob>('SyncJob', ns)).items.length;
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const forged = await page.request.post(`${base}/actions/sync`, { form: { _csrf: csrf!, ns, flow: 'members', mode: 'Full' }, headers: { Origin: base } });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toMatch(/forbidden[\s\S]*ferry-e2e-viewer/i);
    // Without the CSRF token the console itself refuses, before asking the API server.
    const editor = await signedIn('ferry-e2e-editor');
    const noToken = await editor.page.request.post(`${base}/actions/sync`, { form: { ns, flow: 'members', mode: 'Full' }, headers: { Origin: base } });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain('CSRF');
    const crossSite = await editor.page.request.post(`${base}/actions/sync`, { form: { _csrf: csrf!, ns, flow: 'members', mode: 'Full' }, headers: { Origin: 'https://evil.example' } });
    expect(crossSite.status()).toBe(403);
    expect((await kube.list<SyncJob>('SyncJob', ns)).items.length).toBe(before);
    await editor.context.close();
    await context.close();
  });

  it('keyboard only: Tab reaches the Full sync button with a visible focus ring, Enter starts the run; Tab and Enter download an export file', async () => {
    const { context, page } = await signedIn('ferry-e2e-editor');
    await visit(page, `/?ns=${ns}`, 'flows-keyboard');
    const card = flowCard(page, 'members');
    await expect.poll(() => card.getByRole('button', { name: 'Full sync' }).isEnabled(), { timeout: 150_000 }).toBe(true);
    /** Presses Tab until the focused element matches, as a keyboard user would; fails after `limit` presses. */
    const tabTo = async (matches: () => Promise<boolean>, limit = 120) => {
      for (let presses = 0; presses < limit; presses++) {
        await page.keyboard.press('Tab');
        if (await matches()) return presses + 1;
      }
      throw new Error(`not reached with ${limit} presses of Tab`);
    };
    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const style = el ? getComputedStyle(el) : undefined;
      return { text: el?.textContent?.trim() ?? '', card: el?.closest('section.flow')?.id ?? '', tag: el?.tagName ?? '', href: el?.getAttribute('href') ?? '', outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '' };
    });
    await tabTo(async () => {
      const f = await focused();
      return f.card === 'flow-members' && f.text === 'Full sync';
    });
    const onButton = await focused();
    expect(onButton.outline).not.toMatch(/^none|\s0px$/);
    await Promise.all([page.waitForURL(/started=/), page.keyboard.press('Enter')]);
    const jobName = new URL(page.url()).searchParams.get('started')!;
    expect((await kube.get<SyncJob>('SyncJob', ns, jobName)).metadata.labels?.['ferry.dev/requested-via']).toBe('ferry-console');
    await waitForPhase(kube, ns, jobName, ['Succeeded', 'Failed'], 150_000);

    await visit(page, `/flows/loyalty/exports?ns=${ns}`, 'exports-keyboard');
    await tabTo(async () => {
      const f = await focused();
      return f.tag === 'A' && /\/files\/.+\/download/.test(f.href);
    }, 200);
    expect((await focused()).outline).not.toMatch(/^none|\s0px$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(await download.failure()).toBeNull();
    await context.close();
  }, 300_000);

  it('no page has a serious accessibility violation, loads anything from elsewhere, breaks its CSP, or shows a secret', () => {
    const serious = violations.filter((v) => v.violations.length > 0);
    expect(serious.map((v) => ({ page: v.page, rules: v.violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`) }))).toEqual([]);
    expect(violations.length).toBeGreaterThanOrEqual(8);
    expect(foreignRequests).toEqual([]);
    expect(cspErrors).toEqual([]);
    for (const html of pagesSeen) for (const secret of secretValues.filter((v) => v.length >= 6)) expect(html).not.toContain(secret);
  });
});
