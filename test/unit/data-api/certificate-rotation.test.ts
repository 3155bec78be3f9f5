/**
 * Rotation of the data API's serving certificate and of the API server's front-proxy CA, as
 * `ferry data-api` applies them when it re-reads its certificate files and the
 * extension-apiserver-authentication ConfigMap (DataApiServer.update): new connections get the new
 * serving certificate, and accept front-proxy certificates of the new CA only.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestHeaderConfig } from '../../../src/data-api/delegation.js';
import { DataApiServer } from '../../../src/data-api/server.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-rotation-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function ca(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

/** A leaf certificate signed by `issuer`: a serving certificate for localhost, or a client certificate. */
function leaf(name: string, issuer: string, usage: 'serverAuth' | 'clientAuth', cn: string): { cert: Buffer; key: Buffer } {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), `extendedKeyUsage=${usage}\n${usage === 'serverAuth' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : ''}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  return { cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) };
}

const pem = (name: string) => readFileSync(join(dir, `${name}.crt`), 'utf8');
const requestHeader = (clientCa: string): RequestHeaderConfig => ({
  clientCa, allowedNames: ['front-proxy-client'], usernameHeaders: ['x-remote-user'], groupHeaders: ['x-remote-group'], extraHeaderPrefixes: ['x-remote-extra-'],
});

let server: DataApiServer;
let port: number;
let pool: pg.Pool;
const certs: Record<string, { cert: Buffer; key: Buffer }> = {};

/** One request on a new connection (no keep-alive agent): what an API server does after its connections are closed. */
function get(trust: string, client: { cert: Buffer; key: Buffer }): Promise<{ status: number; servedBy: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/apis', agent: false, ca: pem(trust), ...client, headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' } },
      (res) => {
        const servedBy = new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw).fingerprint256;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const fingerprint = (name: string) => new X509Certificate(readFileSync(join(dir, `${name}.crt`))).fingerprint256;

beforeAll(() => {
  for (const name of ['serving-ca-old', 'serving-ca-new', 'front-proxy-ca-old', 'front-proxy-ca-new']) ca(name);
  certs.servingOld = leaf('serving-old', 'serving-ca-old', 'serverAuth', 'ferry-data-api.ferry-system.svc');
  certs.servingNew = leaf('serving-new', 'serving-ca-new', 'serverAuth', 'ferry-data-api.ferry-system.svc');
  certs.proxyOld = leaf('proxy-old', 'front-proxy-ca-old', 'clientAuth', 'front-proxy-client');
  certs.proxyNew = leaf('proxy-new', 'front-proxy-ca-new', 'clientAuth', 'front-proxy-client');
});

beforeAll(async () => {
  // Discovery by system:masters reads neither the state DB nor the API server: the pool never connects.
  pool = new pg.Pool({ host: '127.0.0.1', port: 1 });
  const unreachable = async () => { throw new Error('not asked in this test'); };
  server = new DataApiServer({
    pool,
    tls: certs.servingOld!,
    requestHeader: requestHeader(pem('front-proxy-ca-old')),
    reviewToken: unreachable,
    authorize: unreachable,
    sensitivity: unreachable as never,
    logger: pino({ level: 'silent' }),
  });
  port = await server.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await server?.close();
  await pool?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('certificate rotation', () => {
  it('serves the old certificate and accepts only the old front-proxy CA before the rotation', async () => {
    expect(await get('serving-ca-old', certs.proxyOld!)).toEqual({ status: 200, servedBy: fingerprint('serving-old') });
    expect((await get('serving-ca-old', certs.proxyNew!)).status).toBe(401);
  });

  it('after update(), new connections get the new serving certificate and only the new front-proxy CA is accepted', async () => {
    server.update(requestHeader(pem('front-proxy-ca-new')), certs.servingNew);
    // A client that trusts only the old serving CA can no longer connect.
    await expect(get('serving-ca-old', certs.proxyNew!)).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    expect(await get('serving-ca-new', certs.proxyNew!)).toEqual({ status: 200, servedBy: fingerprint('serving-new') });
    // A front-proxy certificate of the old CA (the API server's previous one) is refused, identity headers and all.
    expect((await get('serving-ca-new', certs.proxyOld!)).status).toBe(401);
  });

  it('a front-proxy CA rotated alone keeps the serving certificate', async () => {
    server.update(requestHeader(pem('front-proxy-ca-old')));
    expect(await get('serving-ca-new', certs.proxyOld!)).toEqual({ status: 200, servedBy: fingerprint('serving-new') });
    expect((await get('serving-ca-new', certs.proxyNew!)).status).toBe(401);
  });
});
