/**
 * A real kube-apiserver + etcd on loopback, envtest style (no kubelet, no controller-manager).
 * Reusable by every suite that needs a Kubernetes API: the e2e suite, Helm install tests, kubectl plugin tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface KubeApiServer {
  /** A kubeconfig file (token auth, TLS verification off) for kubectl and @kubernetes/client-node. */
  kubeconfigPath: string;
  url: string;
  /** Bearer token of a system:masters user. */
  token: string;
  /**
   * The front proxy (aggregation layer): the CA in --requestheader-client-ca-file and the client
   * certificate the API server presents to aggregated API servers (--proxy-client-*).
   */
  frontProxy: FrontProxyPki;
  /** Stops the apiserver only (etcd keeps the data), then starts it again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export interface FrontProxyPki {
  caCert: string;
  caCertPath: string;
  /** The CA's key, so tests can sign a client certificate the CA vouches for but with another name. */
  caKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** The CN of the proxy client certificate (--requestheader-allowed-names). */
  allowedName: string;
}

/** A throwaway front-proxy CA and the API server's proxy client certificate, made with openssl. */
export function createFrontProxyPki(dir: string, allowedName = 'front-proxy-client'): FrontProxyPki {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=front-proxy-ca',
    '-keyout', path('front-proxy-ca.key'), '-out', path('front-proxy-ca.crt'));
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${allowedName}`,
    '-keyout', path('front-proxy-client.key'), '-out', path('front-proxy-client.csr'));
  writeFileSync(path('front-proxy-client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl('x509', '-req', '-in', path('front-proxy-client.csr'), '-CA', path('front-proxy-ca.crt'), '-CAkey', path('front-proxy-ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', path('front-proxy-client.ext'), '-out', path('front-proxy-client.crt'));
  return {
    caCert: readFileSync(path('front-proxy-ca.crt'), 'utf8'),
    caCertPath: path('front-proxy-ca.crt'),
    caKeyPath: path('front-proxy-ca.key'),
    clientCertPath: path('front-proxy-client.crt'),
    clientKeyPath: path('front-proxy-client.key'),
    allowedName,
  };
}

export interface StartOptions {
  /** Directory holding kube-apiserver and etcd; default $KUBEBUILDER_ASSETS or scripts/kube-test-assets.sh. */
  assetsDir?: string;
  /** Extra users for RBAC tests: token -> user name (no groups). */
  users?: Record<string, string>;
  /** CRD directory to install; default the repository's crds/. Pass null to skip. */
  crdsDir?: string | null;
  log?: (line: string) => void;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Finds the binaries: KUBEBUILDER_ASSETS, else the cached build (building it the first time, ~6 min). */
export function kubeAssetsDir(): string {
  const fromEnv = process.env.KUBEBUILDER_ASSETS;
  if (fromEnv && existsSync(join(fromEnv, 'kube-apiserver'))) return fromEnv;
  const out = execFileSync(join(repoRoot, 'scripts', 'kube-test-assets.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit) throw new Error(`${what} exited: ${exit}`);
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

async function httpOk(url: string, token?: string): Promise<boolean> {
  const https = await import('node:https');
  return new Promise((resolveOk) => {
    const req = https.get(url, { rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 2000 }, (res) => {
      res.resume();
      resolveOk(res.statusCode === 200);
    });
    req.on('error', () => resolveOk(false));
    req.on('timeout', () => {
      req.destroy();
      resolveOk(false);
    });
  });
}

function tail(buffer: string[]): string {
  return buffer.slice(-30).join('');
}

interface Proc {
  child: ChildProcess;
  output: string[];
  exit?: string;
}

function launch(binary: string, args: string[], log?: (line: string) => void): Proc {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { child, output: [] };
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    proc.output.push(text);
    if (proc.output.length > 200) proc.output.splice(0, 100);
    log?.(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  child.on('exit', (code, signal) => {
    proc.exit = `code ${code} signal ${signal}\n${tail(proc.output)}`;
  });
  return proc;
}

async function kill(proc: Proc | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!proc || proc.exit) return;
  const exited = new Promise<void>((r) => proc.child.once('exit', () => r()));
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function kubeconfigYaml(url: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: ferry-test',
    '  cluster:',
    `    server: ${url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: ferry-test',
    '  context:',
    '    cluster: ferry-test',
    '    user: admin',
    '    namespace: default',
    'current-context: ferry-test',
    '',
  ].join('\n');
}

/** Installs the CRDs in `dir` and waits until the API server serves them. */
export async function installCrds(kubeconfigPath: string, dir: string): Promise<void> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const names: string[] = [];
  for (const file of files) {
    for (const doc of k8s.loadAllYaml(readFileSync(join(dir, file), 'utf8'))) {
      const crd = doc as InstanceType<typeof k8s.V1CustomResourceDefinition>;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      names.push(crd.metadata!.name!);
      try {
        await api.createCustomResourceDefinition({ body: crd });
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
        const existing = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
        crd.metadata!.resourceVersion = existing.metadata!.resourceVersion;
        await api.replaceCustomResourceDefinition({ name: crd.metadata!.name!, body: crd });
      }
    }
  }
  const deadline = Date.now() + 30_000;
  for (const name of names) {
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established`);
      await sleep(100);
    }
  }
}

/**
 * Starts etcd and kube-apiserver on loopback with token auth, RBAC authorization and a generated
 * service-account signing key, writes a kubeconfig, and installs the CRDs.
 */
export async function startKubeApiServer(options: StartOptions = {}): Promise<KubeApiServer> {
  const assets = options.assetsDir ?? kubeAssetsDir();
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'ferry-kube-'));
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  const token = randomBytes(24).toString('hex');
  const users = Object.entries(options.users ?? {}).map(([t, user]) => `${t},${user},${user}`);
  writeFileSync(join(dir, 'tokens.csv'), [`${token},admin,admin,system:masters`, ...users].join('\n') + '\n', { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

  const frontProxy = createFrontProxyPki(certDir);

  const [etcdClient, etcdPeer, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const etcd = launch(join(assets, 'etcd'), [
    '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `default=http://127.0.0.1:${etcdPeer}`,
  ], options.log);
  const url = `https://127.0.0.1:${apiPort}`;
  let apiserver: Proc | undefined;
  const startApiServer = async () => {
    apiserver = launch(join(assets, 'kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--cert-dir=${certDir}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--insecure-port=0',
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--api-audiences=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/24',
      '--allow-privileged=true',
      // No kubelet and no token controller: keep admission to the plugins that need nothing else.
      '--enable-admission-plugins=NamespaceLifecycle',
      '--disable-admission-plugins=ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota,LimitRanger,DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize,DefaultTolerationSeconds,Priority,RuntimeClass,DefaultIngressClass,TaintNodesByCondition,CertificateApproval,CertificateSigning,CertificateSubjectRestriction',
      '--enable-priority-and-fairness=false',
      // The aggregation layer: the API server proxies aggregated APIs (data.ferry.dev) with this client
      // certificate and the user in X-Remote-* headers, and publishes the CA in
      // kube-system/extension-apiserver-authentication for the aggregated servers to verify it.
      `--requestheader-client-ca-file=${frontProxy.caCertPath}`,
      `--requestheader-allowed-names=${frontProxy.allowedName}`,
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${frontProxy.clientCertPath}`,
      `--proxy-client-key-file=${frontProxy.clientKeyPath}`,
      '--endpoint-reconciler-type=none',
      '--v=0',
    ], options.log);
    await waitFor('kube-apiserver', 90_000, () => httpOk(`${url}/readyz`, token), () => apiserver?.exit);
  };

  const stopAll = async () => {
    await kill(apiserver);
    await kill(etcd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('etcd', 30_000, async () => {
      const res = await fetch(`http://127.0.0.1:${etcdClient}/health`);
      return res.ok;
    }, () => etcd.exit);
    await startApiServer();
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(url, token), { mode: 0o600 });
    if (options.crdsDir !== null) await installCrds(kubeconfigPath, options.crdsDir ?? join(repoRoot, 'crds'));
    return {
      kubeconfigPath,
      url,
      token,
      frontProxy,
      restart: async ({ downMs = 1000 } = {}) => {
        await kill(apiserver);
        await sleep(downMs);
        await startApiServer();
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
