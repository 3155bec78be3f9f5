/**
 * A client of the data API (data.ferry.dev) through the API server, with the user's own kubeconfig:
 * the kubectl plugin uses it, and so can the console. Downloads stream and check their SHA-256.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP_VERSION, type ExportFile, type Pair, type SourceFile } from './objects.js';
import type { ReportDocument } from './report.js';

export class DataApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const BASE = `/apis/${GROUP_VERSION}`;

export class DataApiClient {
  constructor(private readonly kubeConfig: KubeConfig) {}

  private async request(path: string): Promise<IncomingMessage> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new DataApiError('no current cluster in the kubeconfig', 0);
    const url = new URL(path, cluster.server);
    const options: https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = https.request(url, options, resolve);
      req.on('error', reject);
      req.end();
    });
  }

  private async json<T>(path: string): Promise<T> {
    const res = await this.request(path);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if ((res.statusCode ?? 0) >= 300) throw errorOf(res.statusCode ?? 0, body, path);
    return JSON.parse(body) as T;
  }

  /** Every page of a list (follows `continue`). */
  private async listAll<T>(namespace: string, resource: string, query: Record<string, string | undefined>): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const params = new URLSearchParams({ limit: '500' });
      for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
      if (token) params.set('continue', token);
      const page = await this.json<{ items: T[]; metadata: { continue?: string } }>(`${BASE}/namespaces/${encodeURIComponent(namespace)}/${resource}?${params}`);
      items.push(...page.items);
      token = page.metadata.continue || undefined;
    } while (token);
    return items;
  }

  /** One page of a list (the console pages; `continue` is the server's opaque token). */
  page<T>(namespace: string, resource: 'pairs' | 'runs' | 'exportfiles', query: Record<string, string | undefined>, limit: number, token?: string): Promise<{ items: T[]; continue?: string }> {
    const params = new URLSearchParams({ limit: String(limit) });
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
    if (token) params.set('continue', token);
    return this.json<{ items: T[]; metadata: { continue?: string } }>(`${BASE}/namespaces/${encodeURIComponent(namespace)}/${resource}?${params}`).then((page) => ({
      items: page.items,
      ...(page.metadata.continue ? { continue: page.metadata.continue } : {}),
    }));
  }

  /** A run's report with one page of its rejected rows (those containing `search`, when given). */
  report(namespace: string, runId: string, page: { limit: number; continue?: string; search?: string }): Promise<ReportDocument> {
    const params = new URLSearchParams({ limit: String(page.limit), ...(page.continue ? { continue: page.continue } : {}), ...(page.search ? { search: page.search } : {}) });
    return this.json<ReportDocument>(`${BASE}/namespaces/${encodeURIComponent(namespace)}/runs/${encodeURIComponent(runId)}/report?${params}`);
  }

  /** The download response as it comes (status, headers, body), for a server that passes it on. */
  async openDownload(namespace: string, id: string): Promise<IncomingMessage> {
    return this.request(`${BASE}/namespaces/${encodeURIComponent(namespace)}/exportfiles/${encodeURIComponent(id)}/download`);
  }

  listPairs(namespace: string, filters: { flow?: string; entity?: string; category?: string }): Promise<Pair[]> {
    return this.listAll<Pair>(namespace, 'pairs', filters);
  }

  listExportFiles(namespace: string, filters: { flow?: string; run?: string }): Promise<ExportFile[]> {
    return this.listAll<ExportFile>(namespace, 'exportfiles', filters);
  }

  listSourceFiles(namespace: string, filters: { flow?: string; entity?: string; status?: string }): Promise<SourceFile[]> {
    return this.listAll<SourceFile>(namespace, 'sourcefiles', filters);
  }

  /**
   * Streams an export file into `sink` and checks it against the SHA-256 the server sends (the one
   * recorded when the file was created). Rejects, after the bytes were written, when they differ.
   */
  async download(namespace: string, id: string, sink: Writable): Promise<{ bytes: number; sha256: string }> {
    const path = `${BASE}/namespaces/${encodeURIComponent(namespace)}/exportfiles/${encodeURIComponent(id)}/download`;
    const res = await this.request(path);
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      throw errorOf(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), path);
    }
    const expected = String(res.headers['x-ferry-sha256'] ?? '');
    const hash = createHash('sha256');
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(res, count, sink);
    const sha256 = hash.digest('hex');
    if (!expected) throw new DataApiError('the server sent no checksum (x-ferry-sha256)', 0);
    if (sha256 !== expected) throw new DataApiError(`checksum mismatch: got sha256 ${sha256}, the archive recorded ${expected}`, 0);
    return { bytes, sha256 };
  }
}

function errorOf(status: number, body: string, path: string): DataApiError {
  let message = body.slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { message?: string };
    if (parsed.message) message = parsed.message;
  } catch {
    /* not a Status */
  }
  if (status === 404 && /could not find the requested resource|page not found/i.test(message)) {
    message = `the data API (data.ferry.dev) is not available: is the chart installed with dataApi.enabled? (${message})`;
  }
  return new DataApiError(`${path}: ${message}`, status);
}
