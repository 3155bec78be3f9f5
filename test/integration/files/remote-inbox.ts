import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { FilesEndpoint } from '../../../src/api/files.js';
import { createTestPki } from '../../../src/export/loopback/pki.js';
import { interopAvailable, startSshd, VSFTPD } from '../export/system-servers.js';

/** Where a files source's inbox is: a local directory, real OpenSSH sshd (internal-sftp) or real vsftpd (explicit TLS). */
export type InboxKind = 'directory' | 'sftp' | 'ftps';

/** The three kinds, with whether each can run here (the servers need root and the Debian packages; see INTEROP_HINT). */
export const INBOX_KINDS: { kind: InboxKind; runnable: boolean }[] = [
  { kind: 'directory', runnable: true },
  { kind: 'sftp', runnable: interopAvailable },
  { kind: 'ftps', runnable: interopAvailable },
];

/**
 * A partner's inbox: `dir` is where its files are on this machine's disk (the test drops and looks at
 * files there), `endpoint` the files source that reads it, `files` the ExportTargets and Secrets a
 * run needs to reach it.
 */
export interface Inbox {
  kind: InboxKind;
  dir: string;
  endpoint(options?: Omit<FilesEndpoint, 'directory' | 'exportTargetRef' | 'subdirectory'>): FilesEndpoint;
  files: { targets: Record<string, ExportTargetSpec>; secrets: Record<string, Record<string, string>> };
  close(): Promise<void>;
}

/** A writable folder for the server's account (sshd logs in as nobody, vsftpd as its anonymous ftp user). */
function openFolder(path: string): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
}

/**
 * Opens an inbox of `kind`. On a server, the inbox is the folder `in` below the ExportTarget's
 * directory, and the account the server acts as is not root, so file permissions bind (a folder
 * made read-only refuses a move into it).
 */
export async function openInbox(kind: InboxKind): Promise<Inbox> {
  if (kind === 'directory') {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-inbox-'));
    return {
      kind,
      dir,
      endpoint: (options = {}) => ({ ...options, directory: dir }),
      files: { targets: {}, secrets: {} },
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (kind === 'sftp') {
    const sshd = await startSshd({ user: 'nobody' });
    const dir = join(sshd.uploadDir, 'in');
    openFolder(dir);
    return {
      kind,
      dir,
      endpoint: (options = {}) => ({ ...options, exportTargetRef: { name: 'partner' }, subdirectory: 'in' }),
      files: {
        targets: { partner: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'partner-creds' }, sftp: { hostKey: sshd.hostKey } } },
        secrets: { 'partner-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey } },
      },
      close: () => sshd.close(),
    };
  }
  const vsftpd = await startWritableVsftpd();
  const dir = join(vsftpd.uploadDir, 'in');
  openFolder(dir);
  return {
    kind,
    dir,
    endpoint: (options = {}) => ({ ...options, exportTargetRef: { name: 'partner' }, subdirectory: 'in' }),
    files: {
      targets: { partner: { protocol: 'FTPS', host: '127.0.0.1', port: vsftpd.port, directory: 'upload', credentialsSecretRef: { name: 'partner-creds' }, ftps: { caSecretRef: { name: 'partner-ca' } } } },
      secrets: { 'partner-creds': { username: 'anonymous', password: 'ferry@example.org' }, 'partner-ca': { 'ca.crt': vsftpd.caCert } },
    },
    close: vsftpd.close,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/**
 * vsftpd with explicit TLS, as startVsftpd (test/integration/export/system-servers.ts) runs it, but
 * letting its anonymous user make directories too, as a partner's account may (processed/ and
 * failed/ need not exist before the first move).
 */
async function startWritableVsftpd(): Promise<{ port: number; uploadDir: string; caCert: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-vsftpd-'));
  const pki = createTestPki(dir);
  const root = join(dir, 'root');
  const uploadDir = join(root, 'upload');
  mkdirSync(root, { mode: 0o755 });
  chmodSync(root, 0o755);
  openFolder(uploadDir);
  mkdirSync(join(dir, 'empty'));
  const port = await freePort();
  const pasvMin = 40000 + Math.floor(Math.random() * 10000);
  const config = {
    listen: 'YES', listen_ipv6: 'NO', listen_address: '127.0.0.1', listen_port: port, background: 'NO',
    anonymous_enable: 'YES', local_enable: 'NO', write_enable: 'YES', anon_upload_enable: 'YES', anon_mkdir_write_enable: 'YES',
    anon_other_write_enable: 'YES', anon_umask: '022', no_anon_password: 'YES', anon_root: root,
    pasv_enable: 'YES', pasv_address: '127.0.0.1', pasv_min_port: pasvMin, pasv_max_port: pasvMin + 50,
    ssl_enable: 'YES', implicit_ssl: 'NO', allow_anon_ssl: 'YES', force_anon_logins_ssl: 'YES', force_anon_data_ssl: 'YES', require_ssl_reuse: 'NO',
    rsa_cert_file: pki.serverCertPath, rsa_private_key_file: pki.serverKeyPath, secure_chroot_dir: join(dir, 'empty'), seccomp_sandbox: 'NO', xferlog_enable: 'NO',
  };
  writeFileSync(join(dir, 'vsftpd.conf'), Object.entries(config).map(([k, v]) => `${k}=${v}\n`).join(''));
  let log = '';
  const child = spawn(VSFTPD, [join(dir, 'vsftpd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const close = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i === 100) {
      await close();
      throw new Error(`vsftpd did not listen on ${port}: ${log}`);
    }
    const open = await new Promise<boolean>((ok) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        ok(true);
      });
      socket.on('error', () => ok(false));
    });
    if (open) break;
    await sleep(50);
  }
  return { port, uploadDir, caCert: pki.caCert, close };
}
