import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suiteRunnable } from '../../helpers/required-suites.js';

export const SSHD = '/usr/sbin/sshd';
export const VSFTPD = '/usr/sbin/vsftpd';
export const INTEROP_HINT =
  'interop suite (OpenSSH sshd + vsftpd) skipped: it needs root and the Debian packages; run `apt-get install -y openssh-server vsftpd` (as .ci/run does) to enable it';
export const interopAvailable = suiteRunnable(existsSync(SSHD) && existsSync(VSFTPD) && process.getuid?.() === 0, INTEROP_HINT);

/** A server's own directory, removed when it stops (no vitest hook: the benchmarks start these servers too). */
const serverDir = (prefix: string) => mkdtempSync(join(tmpdir(), `ferry-${prefix}-`));

async function stopAndRemove(child: ChildProcess, dir: string): Promise<void> {
  await stop(child);
  rmSync(dir, { recursive: true, force: true });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((ok) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        ok(true);
      });
      socket.on('error', () => ok(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`server did not listen on ${port}: ${output()}`);
}

function startProcess(command: string, args: string[]): { child: ChildProcess; output: () => string } {
  let log = '';
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  return { child, output: () => log };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(3000)]);
}

export interface Sshd {
  port: number;
  user: string;
  hostKey: string;
  clientPrivateKey: string;
  uploadDir: string;
  close(): Promise<void>;
}

/**
 * OpenSSH's sshd in the foreground (`sshd -D`) on a loopback port, serving internal-sftp with key auth.
 * `user` logs in as that system account (e.g. nobody) instead of root, which file permissions bind;
 * the upload directory is then theirs.
 */
export async function startSshd(options: { user?: string } = {}): Promise<Sshd> {
  const dir = serverDir('sshd');
  const uploadDir = join(dir, 'upload');
  mkdirSync(uploadDir);
  // sshd insists on its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  const port = await freePort();
  const user = options.user ?? userInfo().username;
  if (options.user) {
    // The account reads its authorized keys and walks to the upload directory itself.
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'authorized_keys'), 0o644);
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }));
    chownSync(uploadDir, uid, gid);
  }
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  const { child, output } = startProcess(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')]);
  await waitForPort(port, child, output);
  return {
    port,
    user,
    hostKey: readFileSync(join(dir, 'host_key.pub'), 'utf8').trim(),
    clientPrivateKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    uploadDir,
    close: () => stopAndRemove(child, dir),
  };
}

export interface Vsftpd {
  port: number;
  /** Directory (relative to the FTP root) uploads go to, and where it is on disk. */
  directory: string;
  uploadDir: string;
  close(): Promise<void>;
}

/**
 * vsftpd in the foreground (`background=NO`) with TLS required for login and data. It runs
 * anonymous-only with uploads, rename and delete allowed in one directory, so the test needs no
 * system account; the "password" is whatever the client sends.
 */
/** `options.mkdir`: the anonymous user may make folders too, as a partner's account may (a files source's processed/ and failed/). */
export async function startVsftpd(tls: { certPath: string; keyPath: string }, implicit = false, options: { mkdir?: boolean } = {}): Promise<Vsftpd> {
  const dir = serverDir('vsftpd');
  const root = join(dir, 'root');
  const uploadDir = join(root, 'upload');
  const empty = join(dir, 'empty');
  mkdirSync(root, { mode: 0o755 });
  chmodSync(root, 0o755);
  mkdirSync(uploadDir);
  chmodSync(uploadDir, 0o777);
  mkdirSync(empty);
  const port = await freePort();
  const pasvMin = 40000 + Math.floor(Math.random() * 10000);
  writeFileSync(
    join(dir, 'vsftpd.conf'),
    [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=YES',
      'local_enable=NO',
      'write_enable=YES',
      'anon_upload_enable=YES',
      ...(options.mkdir ? ['anon_mkdir_write_enable=YES'] : []),
      'anon_other_write_enable=YES',
      'anon_umask=022',
      'no_anon_password=YES',
      `anon_root=${root}`,
      'pasv_enable=YES',
      'pasv_address=127.0.0.1',
      `pasv_min_port=${pasvMin}`,
      `pasv_max_port=${pasvMin + 50}`,
      'ssl_enable=YES',
      `implicit_ssl=${implicit ? 'YES' : 'NO'}`,
      'allow_anon_ssl=YES',
      'force_anon_logins_ssl=YES',
      'force_anon_data_ssl=YES',
      'require_ssl_reuse=NO',
      `rsa_cert_file=${tls.certPath}`,
      `rsa_private_key_file=${tls.keyPath}`,
      `secure_chroot_dir=${empty}`,
      'seccomp_sandbox=NO',
      'xferlog_enable=NO',
    ].join('\n') + '\n',
  );
  const { child, output } = startProcess(VSFTPD, [join(dir, 'vsftpd.conf')]);
  await waitForPort(port, child, output);
  return { port, directory: 'upload', uploadDir, close: () => stopAndRemove(child, dir) };
}
