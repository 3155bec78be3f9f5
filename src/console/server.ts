/**
 * The Ferry console's HTTP server: server-rendered pages, one script for live updates, and form
 * actions that create SyncJobs. Every read and action uses the viewer's own credentials (identity.ts);
 * the console has no rights and keeps no state beyond its CSRF key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SyncFlow } from '../api/syncflow.js';
import type { SyncJob } from '../api/syncjob.js';
import { KubeApiError } from '../cli/kubectl-ferry/kube.js';
import { suspendPatch } from '../cli/kubectl-ferry/suspend.js';
import { LABEL_FLOW, labelValue } from '../controller/labels.js';
import { DataApiError } from '../data-api/client.js';
import type { ExportFile, Pair, Run } from '../data-api/objects.js';
import type { ReportDocument } from '../data-api/report.js';
import { ConfigError, FerryError } from '../util/errors.js';
import { newExportJob, resolveJobFromForm, retransferJobFromForm, syncJobFromForm, type Form } from './actions.js';
import { CLIENT_SCRIPT } from './assets/client-script.js';
import { STYLES } from './assets/styles.js';
import { ConsoleCluster } from './cluster.js';
import { html, query, raw, type Html } from './html.js';
import { summarizeRun } from '../report/summary.js';
import { summaryToHtml } from '../report/summary-html.js';
import { isTerminal } from '../cli/kubectl-ferry/format.js';
import { Identity, SESSION_COOKIE, type IdentityMode, type Viewer } from './identity.js';
import { exportsIndexPage, exportsPage } from './pages/exports.js';
import { activeRunOf, flowCard, flowsPage, FLOWS_PER_PAGE } from './pages/flows.js';
import { page, signInPage, type PageFrame } from './pages/layout.js';
import { runPage } from './pages/run.js';
import { windowPage, type WindowInput } from './pages/window.js';
import { CsrfTokens, sameOrigin, securityHeaders } from './security.js';

export interface ConsoleOptions {
  identity: IdentityMode;
  /** The namespace shown when the URL names none. */
  defaultNamespace: string;
  logger: Logger;
  /** Where the sign-in proxy starts a sign-in (bearer mode), linked from the sign-in page. */
  signInUrl?: string;
  now?: () => Date;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DATA_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const PAIR_PAGE = 50;
const REJECTED_PAGE = 50;
const FILES_PAGE = 500;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof KubeApiError) return error.status;
  if (error instanceof DataApiError && error.status >= 400) return error.status;
  if (error instanceof ConfigError) return 400;
  // The API server could not be reached or answered nonsense.
  if (error instanceof FerryError || error instanceof DataApiError) return 502;
  return 500;
}

/** The search box's text (`q`), as long as the data API takes. */
const searchOf = (url: URL) => (url.searchParams.get('q') ?? '').trim().slice(0, 100);

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const sendHtml = (res: ServerResponse, status: number, body: Html) => send(res, status, 'text/html; charset=utf-8', body.text);

/** The part of a page inside <main> (what the live script swaps in). */
function mainPart(document: string): string {
  const start = document.indexOf('<main id="main" tabindex="-1">');
  const end = document.lastIndexOf('</main>');
  return start >= 0 && end > start ? document.slice(start + '<main id="main" tabindex="-1">'.length, end) : document;
}

async function readForm(req: IncomingMessage): Promise<Form> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'actions take form posts');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, 'form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function checked(value: string | null | undefined, pattern: RegExp, what: string): string {
  if (!value || !pattern.test(value)) throw new HttpError(400, `invalid ${what}`);
  return value;
}

export class ConsoleServer {
  private readonly identity: Identity;
  private readonly csrf = new CsrfTokens();
  private readonly server: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly now: () => Date;

  constructor(private readonly options: ConsoleOptions) {
    this.identity = new Identity(options.identity);
    this.now = options.now ?? (() => new Date());
    this.server = createServer((req, res) => {
      securityHeaders(res);
      this.handle(req, res).catch((error: unknown) => this.fail(req, res, error));
    });
  }

  get signInToken(): string {
    return this.identity.signInToken;
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.identity.close();
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const status = statusOf(error);
    if (status >= 500) this.options.logger.error({ err: error, url: req.url }, 'console request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    const ns = new URL(req.url ?? '/', 'http://console').searchParams.get('ns') ?? this.options.defaultNamespace;
    const text = status === 403 ? `Not allowed: ${messageOf(error)}` : messageOf(error);
    sendHtml(res, status, page({ title: status === 403 ? 'Not allowed' : 'Something went wrong', namespace: NAMESPACE.test(ns) ? ns : this.options.defaultNamespace, notice: { kind: 'error', text } }, html`<p><a href="/${query({ ns })}">Back to the flows</a></p>`));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/assets/console.css') return send(res, 200, 'text/css; charset=utf-8', STYLES);
    if (req.method === 'GET' && path === '/assets/console.js') return send(res, 200, 'text/javascript; charset=utf-8', CLIENT_SCRIPT);
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
    if (req.method === 'GET' && path === '/signin' && this.identity.acceptsSignIn(url.searchParams.get('token'))) {
      res.writeHead(303, { Location: '/', 'Set-Cookie': `${SESSION_COOKIE}=${this.identity.signInToken}; HttpOnly; SameSite=Strict; Path=/` });
      res.end();
      return;
    }
    const viewer = this.identity.viewerOf(req);
    if (!viewer) {
      const reason =
        this.identity.mode.kind === 'kubeconfig'
          ? 'Open the link that `kubectl ferry console` printed in your terminal.'
          : 'Sign in through your organisation’s single sign-on.';
      return sendHtml(res, 401, signInPage(reason, this.options.signInUrl));
    }
    if (req.method === 'POST') return this.action(req, res, path, viewer);
    const ns = url.searchParams.get('ns') || this.options.defaultNamespace;
    if (!NAMESPACE.test(ns)) throw new HttpError(400, 'invalid namespace');
    const cluster = new ConsoleCluster(viewer, ns);
    if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const fragment = req.headers['x-console-fragment'] === 'main';
    const render = (frame: PageFrame, body: Html) => {
      const document = page({ ...frame, csrf: this.csrf.tokenFor(viewer.session) }, body);
      return fragment ? send(res, 200, 'text/html; charset=utf-8', mainPart(document.text)) : sendHtml(res, 200, document);
    };
    if (path === '/') return render(...(await this.flowsPage(cluster, viewer, url)));
    if (path === '/fragments/flow') return sendHtml(res, 200, await this.flowFragment(cluster, viewer, checked(url.searchParams.get('name'), OBJECT_NAME, 'flow')));
    if (path === '/events') return this.events(req, res, cluster);
    if (path === '/exports') {
      const [flows, targets] = await Promise.all([cluster.ferry.listFlows(), cluster.ferry.listExportTargets()]);
      return render({ title: 'Exports', namespace: ns, nav: 'exports' }, exportsIndexPage({ flows, targets, namespace: ns }));
    }
    if (segments[0] === 'runs' && segments.length === 2) return render(...(await this.runPage(cluster, checked(segments[1], OBJECT_NAME, 'run'), url)));
    if (segments[0] === 'runs' && segments.length === 3 && segments[2] === 'report.json') return this.reportDownload(res, cluster, checked(segments[1], OBJECT_NAME, 'run'));
    if (segments[0] === 'flows' && segments.length === 3 && segments[2] === 'window') return render(...(await this.windowPage(cluster, viewer, checked(segments[1], OBJECT_NAME, 'flow'), url)));
    if (segments[0] === 'flows' && segments.length === 3 && segments[2] === 'exports') return render(...(await this.exportsPage(cluster, viewer, checked(segments[1], OBJECT_NAME, 'flow'), url)));
    if (segments[0] === 'files' && segments.length === 3 && segments[2] === 'download') return this.download(res, cluster, checked(segments[1], DATA_NAME, 'file'));
    throw new HttpError(404, 'no such page');
  }

  private async flowsPage(cluster: ConsoleCluster, viewer: Viewer, url: URL): Promise<[PageFrame, Html]> {
    const ns = cluster.namespace;
    const search = (url.searchParams.get('q') ?? '').trim();
    const started = url.searchParams.get('started');
    const requestedPage = Math.max(1, Number(url.searchParams.get('page')) || 1);
    const [listed, access] = await Promise.all([this.listFlows(cluster, search, requestedPage, url.searchParams.get('continue') ?? undefined), cluster.access()]);
    const { flows, total, pageNumber, next } = listed;
    // Only the flows the controller marks busy (and a run just started here) cost a request.
    const wanted = new Set(flows.map((f) => f.status?.activeJob?.name).filter((n): n is string => Boolean(n)));
    if (started && OBJECT_NAME.test(started)) wanted.add(started);
    const jobs = (await Promise.all([...wanted].map((name) => cluster.ferry.getSyncJob(name).catch(() => undefined)))).filter((j): j is SyncJob => Boolean(j));
    const actives = new Map<string, SyncJob>();
    for (const flow of flows) {
      const active = activeRunOf(jobs.filter((j) => j.spec.flowRef.name === flow.metadata.name));
      if (active) actives.set(flow.metadata.name, active);
    }
    const startedJob = jobs.find((j) => j.metadata.name === started);
    return [
      { title: 'Flows', namespace: ns, live: 'cards', nav: 'flows', ...(startedJob ? { notice: { kind: 'info', text: `Started ${startedJob.metadata.name} (${startedJob.spec.mode}).` } } : {}) },
      flowsPage({ flows, actives, access, csrf: this.csrf.tokenFor(viewer.session), namespace: ns, now: this.now(), page: pageNumber, search, total, ...(next ? { next } : {}) }),
    ];
  }

  /**
   * One page of flows. Without a search, the API server pages (limit 20 and its continue token; the
   * total from its remaining count), so the first page costs the same with 20 flows or 2,000. An
   * expired token (410 Gone, after the API server's compaction) starts again at the first page.
   */
  private async listFlows(cluster: ConsoleCluster, search: string, requestedPage: number, continueToken: string | undefined): Promise<{ flows: SyncFlow[]; total: number; pageNumber: number; next?: string }> {
    if (search) {
      const matching = (await cluster.ferry.listFlows()).filter((f) => f.metadata.name.includes(search));
      const pageNumber = Math.min(Math.max(1, Math.ceil(matching.length / FLOWS_PER_PAGE)), requestedPage);
      return { flows: matching.slice((pageNumber - 1) * FLOWS_PER_PAGE, pageNumber * FLOWS_PER_PAGE), total: matching.length, pageNumber };
    }
    const token = requestedPage > 1 ? continueToken : undefined;
    const listed = await cluster.ferry.listFlowsPage(FLOWS_PER_PAGE, token).catch((error: unknown) => {
      if (token && error instanceof KubeApiError && error.status === 410) return undefined;
      throw error;
    });
    const pageList = listed ?? (await cluster.ferry.listFlowsPage(FLOWS_PER_PAGE));
    const pageNumber = listed && token ? requestedPage : 1;
    const before = (pageNumber - 1) * FLOWS_PER_PAGE;
    const total = before + pageList.items.length + (pageList.remaining ?? (pageList.continue ? FLOWS_PER_PAGE : 0));
    return { flows: pageList.items, total, pageNumber, ...(pageList.continue ? { next: pageList.continue } : {}) };
  }

  /**
   * The SyncJobs of one flow: those labelled with it (scheduled runs, kubectl ferry, the console) and
   * those without the label (applied by hand), never every run of the namespace.
   */
  private async jobsOfFlow(cluster: ConsoleCluster, flow: SyncFlow): Promise<SyncJob[]> {
    const [labelled, unlabelled] = await Promise.all([cluster.ferry.listSyncJobs(`${LABEL_FLOW}=${labelValue(flow.metadata.name)}`), cluster.ferry.listSyncJobs(`!${LABEL_FLOW}`)]);
    const jobs = [...labelled, ...unlabelled].filter((j) => j.spec.flowRef.name === flow.metadata.name);
    const activeName = flow.status?.activeJob?.name;
    if (activeName && !jobs.some((j) => j.metadata.name === activeName)) {
      const active = await cluster.ferry.getSyncJob(activeName).catch(() => undefined);
      if (active) jobs.push(active);
    }
    return jobs;
  }

  private async flowFragment(cluster: ConsoleCluster, viewer: Viewer, name: string): Promise<Html> {
    const [flow, access] = await Promise.all([cluster.ferry.getFlow(name), cluster.access()]);
    const active = activeRunOf(await this.jobsOfFlow(cluster, flow));
    return flowCard({ flow, active, access, csrf: this.csrf.tokenFor(viewer.session), namespace: cluster.namespace, now: this.now() });
  }

  private async runPage(cluster: ConsoleCluster, name: string, url: URL): Promise<[PageFrame, Html]> {
    const job = await cluster.ferry.getSyncJob(name);
    const runId = job.status?.runId ?? job.status?.reportRef?.runId;
    const continueToken = url.searchParams.get('continue') ?? undefined;
    const search = searchOf(url);
    let report: ReportDocument | undefined;
    let reportError: string | undefined;
    if (runId) {
      try {
        // The data API searches all rejected rows of the run, a bounded window per page.
        report = await cluster.data.report(cluster.namespace, runId, { limit: REJECTED_PAGE, ...(continueToken ? { continue: continueToken } : {}), ...(search ? { search } : {}) });
      } catch (error) {
        if (!(error instanceof DataApiError && error.status === 404)) reportError = messageOf(error);
      }
    }
    // The same summary as the report e-mail and `-o html` (src/report), once the run has ended.
    const summary = isTerminal(job)
      ? raw(
          summaryToHtml(
            summarizeRun(report?.report, {
              flow: `${cluster.namespace}/${job.spec.flowRef.name}`,
              namespace: cluster.namespace,
              syncJob: name,
              mode: job.spec.mode,
              ...(job.spec.requestedBy ? { requestedBy: job.spec.requestedBy } : {}),
              ...(job.status?.phase ? { phase: job.status.phase } : {}),
              ...(job.status?.message ? { message: job.status.message } : {}),
            }),
            { inlineStyles: false, headingLevel: 2 },
          ),
        )
      : undefined;
    return [
      { title: `Run ${name}`, namespace: cluster.namespace, live: 'main', flows: [job.spec.flowRef.name] },
      runPage({ job, namespace: cluster.namespace, report, reportError, search, continueToken, now: this.now(), ...(summary ? { summary } : {}) }),
    ];
  }

  /** The whole report with every rejected row (pages of the data API, bounded), as one JSON file. */
  private async reportDownload(res: ServerResponse, cluster: ConsoleCluster, name: string): Promise<void> {
    const job = await cluster.ferry.getSyncJob(name);
    const runId = job.status?.runId ?? job.status?.reportRef?.runId;
    if (!runId) throw new HttpError(404, `${name} has no run yet`);
    let doc = await cluster.data.report(cluster.namespace, runId, { limit: 1000 });
    const rows = [...doc.rejectedRows];
    for (let pages = 1; doc.continue && pages < 100; pages++) {
      doc = await cluster.data.report(cluster.namespace, runId, { limit: 1000, continue: doc.continue });
      rows.push(...doc.rejectedRows);
    }
    const body = JSON.stringify({ syncJob: name, runId, report: doc.report ?? null, rejectedRows: rows, ...(doc.continue ? { truncated: true } : {}) }, null, 2);
    res.setHeader('Content-Disposition', `attachment; filename="${name}-report.json"`);
    send(res, 200, 'application/json', body);
  }

  private async windowPage(cluster: ConsoleCluster, viewer: Viewer, name: string, url: URL): Promise<[PageFrame, Html]> {
    const category = url.searchParams.get('category') || 'conflict';
    const entity = url.searchParams.get('entity') ?? '';
    const continueToken = url.searchParams.get('continue') ?? undefined;
    const search = searchOf(url);
    // The data API searches the keys of every pair of the category (not unpaired records, whose page is filtered here).
    const searchedByServer = search !== '' && category !== 'new';
    const [flow, access, pairs, entityCounts] = await Promise.all([
      cluster.ferry.getFlow(name),
      cluster.access(),
      cluster.data.page<Pair>(cluster.namespace, 'pairs', { flow: name, category, ...(entity ? { entity } : {}), ...(searchedByServer ? { search } : {}) }, PAIR_PAGE, continueToken),
      this.entityCounts(cluster, name),
    ]);
    return [
      { title: `Synchronization window: ${name}`, namespace: cluster.namespace, flows: [name], nav: 'flows' },
      windowPage({ flow, namespace: cluster.namespace, entity, category, search, searchedByServer, ...(entityCounts ? { entityCounts } : {}), pairs: pairs.items, next: pairs.continue, continueToken, access, csrf: this.csrf.tokenFor(viewer.session) }),
    ];
  }

  /**
   * Pairs per entity and category as the flow's last finished run counted them (every run report
   * carries them); undefined when no finished run is found or the data API cannot say.
   */
  private async entityCounts(cluster: ConsoleCluster, flow: string): Promise<WindowInput['entityCounts']> {
    try {
      const runs = await cluster.data.page<Run>(cluster.namespace, 'runs', { flow }, 5);
      const finished = runs.items.find((r) => r.completedAt !== undefined);
      if (!finished) return undefined;
      const report = await cluster.data.report(cluster.namespace, finished.metadata.name, { limit: 1 });
      const entities = new Map((report.report?.entities ?? []).filter((e) => e.categories).map((e) => [e.name, e.categories!] as const));
      return entities.size > 0 ? { runId: finished.metadata.name, entities } : undefined;
    } catch (error) {
      this.options.logger.debug({ err: error, flow }, 'no per-entity pair counts');
      return undefined;
    }
  }

  private async exportsPage(cluster: ConsoleCluster, viewer: Viewer, name: string, url: URL): Promise<[PageFrame, Html]> {
    const flow = await cluster.ferry.getFlow(name);
    let filesError: string | undefined;
    const [jobs, access, targets, files] = await Promise.all([
      this.jobsOfFlow(cluster, flow),
      cluster.access(),
      cluster.ferry.listExportTargets(),
      cluster.data.page<ExportFile>(cluster.namespace, 'exportfiles', { flow: name }, FILES_PAGE).then((p) => p.items).catch((error: unknown) => {
        filesError = messageOf(error);
        return [] as ExportFile[];
      }),
    ]);
    return [
      { title: `Exports: ${name}`, namespace: cluster.namespace, live: 'main', flows: [name], nav: 'exports' },
      exportsPage({ flow, namespace: cluster.namespace, jobs, files, filesError, targets, access, csrf: this.csrf.tokenFor(viewer.session), now: this.now(), page: Math.max(1, Number(url.searchParams.get('page')) || 1) }),
    ];
  }

  /** Streams an export file from the data API with its recorded SHA-256. */
  private async download(res: ServerResponse, cluster: ConsoleCluster, id: string): Promise<void> {
    const upstream = await cluster.data.openDownload(cluster.namespace, id);
    const status = upstream.statusCode ?? 502;
    if (status >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of upstream) chunks.push(chunk as Buffer);
      let message = Buffer.concat(chunks).toString('utf8').slice(0, 500);
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        /* not a Status */
      }
      throw new HttpError(status, message);
    }
    const headers: Record<string, string> = { 'Content-Type': String(upstream.headers['content-type'] ?? 'application/octet-stream') };
    for (const name of ['content-length', 'content-disposition', 'x-ferry-sha256', 'digest']) {
      const value = upstream.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    res.writeHead(200, headers);
    upstream.pipe(res);
  }

  /** Server-sent events: the flows that changed, from watches made with the viewer's credentials. */
  private events(req: IncomingMessage, res: ServerResponse, cluster: ConsoleCluster): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    this.streams.add(res);
    let closed = false;
    let watch: { stop: () => void } | undefined;
    let restarts = 0;
    const start = () => {
      // After a restart, changes in between were not seen: the page refreshes everything it shows.
      if (restarts++ > 0) res.write('event: reset\ndata: \n\n');
      watch = cluster.watchFlows(
        (flow) => {
          if (!closed) res.write(`event: flow\ndata: ${flow.replace(/[\r\n]/g, '')}\n\n`);
        },
        () => {
          // Watches end (server timeouts, restarts): start over after a moment.
          watch?.stop();
          if (!closed) setTimeout(() => !closed && start(), 1000);
        },
      );
    };
    start();
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    const close = () => {
      closed = true;
      clearInterval(heartbeat);
      watch?.stop();
      this.streams.delete(res);
    };
    req.on('close', close);
    res.on('close', close);
  }

  private async action(req: IncomingMessage, res: ServerResponse, path: string, viewer: Viewer): Promise<void> {
    const form = await readForm(req);
    if (!sameOrigin(req)) throw new HttpError(403, 'actions must come from the console’s own pages');
    if (!this.csrf.verify(viewer.session, form.get('_csrf') ?? undefined)) throw new HttpError(403, 'the form is out of date or not from this console (CSRF check): reload the page');
    const ns = checked(form.get('ns') || this.options.defaultNamespace, NAMESPACE, 'namespace');
    const cluster = new ConsoleCluster(viewer, ns);
    const flowName = checked(form.get('flow'), OBJECT_NAME, 'flow');
    const email = this.identity.mode.kind === 'bearer' ? (req.headers['x-forwarded-email'] as string | undefined) : undefined;
    const redirect = (location: string) => {
      res.writeHead(303, { Location: location });
      res.end();
    };
    const create = async (job: SyncJob) => (await cluster.ferry.createSyncJob(job)).metadata.name;
    switch (path) {
      case '/actions/sync': {
        const name = await create(syncJobFromForm(ns, flowName, form, email));
        return redirect(`/${query({ ns, q: flowName, started: name })}#flow-${flowName}`);
      }
      case '/actions/resolve': {
        const name = await create(resolveJobFromForm(ns, flowName, form, email));
        return redirect(`/runs/${name}${query({ ns })}`);
      }
      case '/actions/retransfer': {
        const original = await cluster.ferry.getSyncJob(checked(form.get('job'), OBJECT_NAME, 'run'));
        if (original.spec.flowRef.name !== flowName) throw new HttpError(400, 'that run is not of this flow');
        await create(retransferJobFromForm(original, form, email));
        return redirect(`/flows/${flowName}/exports${query({ ns })}`);
      }
      case '/actions/export': {
        const flow = await cluster.ferry.getFlow(flowName);
        await create(newExportJob(ns, flow, email));
        return redirect(`/flows/${flowName}/exports${query({ ns })}`);
      }
      case '/actions/schedule': {
        const flow = await cluster.ferry.getFlow(flowName);
        const schedule = form.get('schedule') ?? undefined;
        if (!schedule || !(flow.spec.schedules ?? []).some((s) => s.name === schedule)) throw new HttpError(400, 'no such schedule');
        await cluster.ferry.patchFlow(flowName, suspendPatch(flow, form.get('suspend') === 'true', schedule));
        return redirect(`/flows/${flowName}/exports${query({ ns })}`);
      }
      default:
        throw new HttpError(404, 'no such action');
    }
  }
}

