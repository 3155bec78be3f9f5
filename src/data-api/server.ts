import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { Logger } from 'pino';
import { currentHorizon } from '../store/change-reads.js';
import { getExportFile, streamExportFile } from '../store/export-file-reads.js';
import { authenticate, type TokenReviewer, type UserInfo } from './authn.js';
import type { Attributes, Authorizer } from './authz.js';
import type { RequestHeaderConfig } from './delegation.js';
import { HttpError, statusBody } from './http-error.js';
import { apiGroup, apiGroupList, apiResourceList } from './discovery.js';
import { OPENAPI_V3_GROUP_VERSION_PATH, openApiV2, openApiV3Discovery, openApiV3GroupVersion } from './openapi.js';
import { GROUP, GROUP_VERSION, VERSION, type ObjectMeta } from './objects.js';
import { loadReport, reportFormat, reportHtml, reportText } from './report.js';
import { inScope, RESOURCES, type PairAccess, type ServedResource } from './resources.js';
import type { SensitivityResolver } from './sensitivity.js';
import { BadRequest, decodeContinue, encodeContinue, listFilters, MAX_SEARCH_LENGTH, pageLimit, searchText } from './selectors.js';
import { includeObjectOf, wantsTable } from './table.js';
import { serveWatch, watchTimeout } from './watch.js';

export interface DataApiOptions {
  pool: pg.Pool;
  tls: { cert: string | Buffer; key: string | Buffer };
  requestHeader: RequestHeaderConfig;
  reviewToken: TokenReviewer;
  authorize: Authorizer;
  /** Which fields flows mark `sensitive: true` (the SyncFlows, read through the API server). */
  sensitivity: SensitivityResolver;
  logger: Logger;
  now?: () => Date;
  /** How often a watch polls the state DB for changes. */
  watchPollMs?: number;
}

const HEALTH_PATHS = new Set(['/healthz', '/readyz', '/livez']);
const API_PREFIX = `/apis/${GROUP}/${VERSION}`;
/** Response header with the hex SHA-256 of a download (the body also carries RFC 3230 `Digest`). */
export const SHA256_HEADER = 'x-ferry-sha256';

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

type Route =
  | { type: 'health' }
  | { type: 'nonResource'; path: string; body: () => unknown }
  | { type: 'resource'; resource: ServedResource; namespace?: string; name?: string; subresource?: string };

function route(path: string): Route | undefined {
  if (HEALTH_PATHS.has(path)) return { type: 'health' };
  if (path === '/apis' || path === '/apis/') return { type: 'nonResource', path, body: apiGroupList };
  if (path === `/apis/${GROUP}` || path === `/apis/${GROUP}/`) return { type: 'nonResource', path, body: apiGroup };
  if (path === API_PREFIX || path === `${API_PREFIX}/`) return { type: 'nonResource', path, body: apiResourceList };
  if (path === '/openapi/v2') return { type: 'nonResource', path, body: openApiV2 };
  if (path === '/openapi/v3') return { type: 'nonResource', path, body: openApiV3Discovery };
  if (path === OPENAPI_V3_GROUP_VERSION_PATH) return { type: 'nonResource', path, body: openApiV3GroupVersion };
  if (!path.startsWith(`${API_PREFIX}/`)) return undefined;
  const parts = path.slice(API_PREFIX.length + 1).split('/').map(decodeURIComponent);
  let namespace: string | undefined;
  if (parts[0] === 'namespaces') {
    if (parts.length < 3 || !parts[1]) return undefined;
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const resource = RESOURCES.find((r) => r.plural === parts[0]);
  if (!resource || parts.length > 3) return undefined;
  const [, name, subresource] = parts;
  if (name !== undefined && (namespace === undefined || !name)) return undefined;
  if (subresource !== undefined && !resource.subresources.includes(subresource)) return undefined;
  return { type: 'resource', resource, namespace, name, subresource };
}

function forbidden(user: UserInfo, a: Attributes, reason?: string): HttpError {
  if (a.kind === 'nonResource') return new HttpError(403, 'Forbidden', `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"${reason ? `: ${reason}` : ''}`);
  const what = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return new HttpError(
    403,
    'Forbidden',
    `${a.resource}.${GROUP}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${user.name}" cannot ${a.verb} resource "${what}" in API group "${GROUP}"${where}${reason ? `: ${reason}` : ''}`,
    { ...(a.name ? { name: a.name } : {}), group: GROUP, kind: a.resource },
  );
}

/**
 * The aggregated API server for data.ferry.dev: TLS, delegated authentication (the API server's
 * front-proxy certificate plus identity headers, or a bearer token checked by TokenReview) and
 * delegated authorization (a SubjectAccessReview for every request). It only reads the state DB.
 */
export class DataApiServer {
  readonly server: https.Server;
  private requestHeader: RequestHeaderConfig;
  private tls: { cert: string | Buffer; key: string | Buffer };
  private readonly now: () => Date;

  constructor(private readonly options: DataApiOptions) {
    this.requestHeader = options.requestHeader;
    this.tls = options.tls;
    this.now = options.now ?? (() => new Date());
    this.server = https.createServer(
      // Client certificates are asked for but not required: token clients and probes have none.
      { cert: options.tls.cert, key: options.tls.key, ca: options.requestHeader.clientCa, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
      (req, res) => void this.handle(req, res),
    );
  }

  /** New front-proxy settings (the API server rotated its request-header CA) or a new serving certificate. */
  update(requestHeader: RequestHeaderConfig, tls?: { cert: string | Buffer; key: string | Buffer }): void {
    this.requestHeader = requestHeader;
    if (tls) this.tls = tls;
    this.server.setSecureContext({ cert: this.tls.cert, key: this.tls.key, ca: requestHeader.clientCa });
  }

  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'https://data-api');
    let user: UserInfo | undefined;
    try {
      const target = route(url.pathname);
      if (target?.type === 'health') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const authn = await authenticate(req, this.requestHeader, this.options.reviewToken);
      if ('error' in authn) throw new HttpError(401, 'Unauthorized', `Unauthorized: ${authn.error}`);
      user = authn.user;
      if (!target) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new HttpError(405, 'MethodNotAllowed', `${req.method} is not supported: the data API only reads (actions are SyncJobs)`);
      }
      if (target.type === 'nonResource') {
        await this.check(user, { kind: 'nonResource', verb: 'get', path: target.path });
        sendJson(res, 200, target.body());
        return;
      }
      await this.serveResource(req, res, url, user, target);
    } catch (error) {
      const http = error instanceof HttpError ? error : error instanceof BadRequest ? new HttpError(400, 'BadRequest', error.message) : undefined;
      if (!http) this.options.logger.error({ err: error instanceof Error ? error.message : String(error), path: url.pathname }, 'data API request failed');
      const reply = http ?? new HttpError(500, 'InternalError', 'Internal error occurred: see the data API server log');
      if (!res.headersSent) sendJson(res, reply.code, statusBody(reply));
      else res.destroy();
    } finally {
      this.options.logger.debug({ method: req.method, path: url.pathname, user: user?.name, status: res.statusCode, ms: Date.now() - started }, 'request');
    }
  }

  private async check(user: UserInfo, attributes: Attributes): Promise<void> {
    // Like kube's generic API server: system:masters is always allowed (the aggregator's availability probe).
    if (user.groups.includes('system:masters')) return;
    const decision = await this.options.authorize(user, attributes);
    if (!decision.allowed) throw forbidden(user, attributes, decision.reason);
  }

  private async allowed(user: UserInfo, attributes: Attributes): Promise<boolean> {
    if (user.groups.includes('system:masters')) return true;
    return (await this.options.authorize(user, attributes)).allowed;
  }

  private async serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    user: UserInfo,
    target: Extract<Route, { type: 'resource' }>,
  ): Promise<void> {
    const { resource, namespace, name, subresource } = target;
    const params = url.searchParams;
    const watching = params.get('watch') === 'true' || params.get('watch') === '1';
    if (watching && (name !== undefined || subresource !== undefined)) throw new HttpError(405, 'MethodNotAllowed', 'watch a single object with the field selector metadata.name');
    const verb = watching ? 'watch' : name === undefined ? 'list' : 'get';
    const attributes: Attributes = {
      kind: 'resource', verb, group: GROUP, version: VERSION, resource: resource.plural,
      ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}), ...(name ? { name } : {}),
    };
    await this.check(user, attributes);
    const unmaskedAttributes: Attributes = { kind: 'resource', verb: 'get', group: GROUP, version: VERSION, resource: 'pairs', subresource: 'unmasked', ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
    const access: PairAccess = {
      unmasked: subresource === 'unmasked' ? async () => true : () => this.allowed(user, unmaskedAttributes),
      sensitivity: this.options.sensitivity,
    };
    const includeObject = includeObjectOf(params.get('includeObject'));
    if (!includeObject) throw new BadRequest('includeObject must be None, Metadata or Object');
    const table = wantsTable(req.headers.accept);

    if (watching) {
      return serveWatch(res, {
        pool: this.options.pool,
        resource,
        ...(namespace !== undefined ? { namespace } : {}),
        filters: listFilters(params, resource.fields),
        access,
        resourceVersion: params.get('resourceVersion'),
        timeoutSeconds: watchTimeout(params.get('timeoutSeconds')),
        bookmarks: params.get('allowWatchBookmarks') === 'true',
        ...(table ? { table: { includeObject } } : {}),
        now: this.now,
        pollMs: this.options.watchPollMs ?? 1000,
      });
    }

    if (name === undefined) {
      const filters = listFilters(params, resource.fields);
      const limit = pageLimit(params);
      const search = searchText(params, MAX_SEARCH_LENGTH);
      if (search !== undefined && !resource.searchable) throw new BadRequest(`${resource.plural} do not take search`);
      // A continue token belongs to its search as much as to its filters.
      const tokenScope = search === undefined ? filters : { ...filters, search };
      // Taken before the read, so a watch from it misses nothing the list did not show.
      const resourceVersion = String(await currentHorizon(this.options.pool));
      const after = decodeContinue(params.get('continue'), resource.plural, tokenScope);
      const page = await resource.list(this.options.pool, { ...(namespace ? { namespace } : {}), filters, limit, after, access, ...(search !== undefined ? { search } : {}) });
      const continueToken = page.next !== undefined ? encodeContinue(resource.plural, tokenScope, page.next) : undefined;
      if (table) {
        sendJson(res, 200, page.table({ includeObject, continueToken, resourceVersion, now: this.now() }));
        return;
      }
      sendJson(res, 200, {
        kind: `${resource.kind}List`,
        apiVersion: GROUP_VERSION,
        metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) },
        items: page.items.map((i) => i.object),
      });
      return;
    }

    const found = await resource.get(this.options.pool, namespace!, name, access);
    if (!found) throw new HttpError(404, 'NotFound', `${resource.plural}.${GROUP} "${name}" not found`, { name, group: GROUP, kind: resource.plural });
    if (subresource === 'report') return this.serveReport(res, params, namespace!, found.object.metadata);
    if (subresource === 'download') return this.serveDownload(req, res, namespace!, name);
    if (table) sendJson(res, 200, found.table({ includeObject, now: this.now() }));
    else sendJson(res, 200, found.object);
  }

  private async serveReport(res: ServerResponse, params: URLSearchParams, namespace: string, run: ObjectMeta): Promise<void> {
    const format = reportFormat(params.get('format'));
    if (!format) throw new BadRequest('format must be json, text or html');
    const token = params.get('continue');
    const afterId = token === null ? undefined : Number(token);
    if (afterId !== undefined && !Number.isInteger(afterId)) throw new BadRequest('invalid continue token');
    const search = searchText(params, MAX_SEARCH_LENGTH);
    const doc = await inScope(this.options.pool, namespace, (db) => loadReport(db, run, { ...(afterId !== undefined ? { afterId } : {}), limit: pageLimit(params), ...(search !== undefined ? { search } : {}) }));
    if (format === 'json') return sendJson(res, 200, doc);
    const body = format === 'text' ? reportText(doc) : reportHtml(doc);
    res.writeHead(200, { 'content-type': format === 'text' ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /**
   * Streams an archived file with the checksum recorded at its creation in the headers. The bytes are
   * not hashed again here: that cost 30% of this process's CPU per byte (bench/README.md), and the
   * client has to check anyway, since only it sees what arrived (kubectl ferry download does).
   */
  private async serveDownload(req: IncomingMessage, res: ServerResponse, namespace: string, id: string): Promise<void> {
    const file = await inScope(this.options.pool, namespace, (db) => getExportFile(db, id));
    if (!file) throw new HttpError(404, 'NotFound', `exportfiles.${GROUP} "${id}" not found`);
    if (file.purgedAt) throw new HttpError(410, 'Gone', `export file ${file.name} was purged at ${file.purgedAt.toISOString()} (retention ended)`);
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': file.bytes,
      'content-disposition': `attachment; filename="${file.name.replace(/["\\\r\n]/g, '_')}"`,
      [SHA256_HEADER]: file.sha256,
      digest: `sha-256=${Buffer.from(file.sha256, 'hex').toString('base64')}`,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(streamExportFile(this.options.pool, file, namespace), res);
  }
}
