import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { FilesEndpoint } from '../../../src/api/files.js';
import { createTestPki } from '../../../src/export/loopback/pki.js';
import { interopAvailable, startSshd, startVsftpd } from '../export/system-servers.js';

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

/** vsftpd (explicit TLS) whose anonymous user may make folders: processed/ and failed/ need not exist before the first move. */
async function startWritableVsftpd(): Promise<{ port: number; uploadDir: string; caCert: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-vsftpd-pki-'));
  const pki = createTestPki(dir);
  const server = await startVsftpd({ certPath: pki.serverCertPath, keyPath: pki.serverKeyPath }, false, { mkdir: true });
  return {
    port: server.port,
    uploadDir: server.uploadDir,
    caCert: pki.caCert,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
