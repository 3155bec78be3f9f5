import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import * as openpgp from 'openpgp';
import pino from 'pino';
import type { SyncMode } from '../../../src/api/common.js';
import type { Entity } from '../../../src/api/entity.js';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { FileSource } from '../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { runSync } from '../../../src/connectors/run.js';
import { freshDatabase } from '../../helpers/databases.js';
import { testDatabase } from '../../helpers/pairings.js';

/** A partner's and our OpenPGP keys, made by openpgp (curve25519: fast). */
export async function pgpKeys() {
  const ours = await openpgp.generateKey({ userIDs: [{ name: 'Ferry', email: 'ferry@example.org' }], passphrase: 'open sesame', format: 'armored' });
  const partner = await openpgp.generateKey({ userIDs: [{ name: 'Payroll', email: 'payroll@example.org' }], format: 'armored' });
  const stranger = await openpgp.generateKey({ userIDs: [{ name: 'Mallory', email: 'mallory@example.org' }], format: 'armored' });
  return { ours, partner, stranger };
}
export type PgpKeys = Awaited<ReturnType<typeof pgpKeys>>;

/** Encrypts to our key and signs with `signer` (or leaves unsigned), as a partner would. */
export async function encryptFor(keys: PgpKeys, bytes: Uint8Array, signer: 'partner' | 'stranger' | 'none' = 'partner'): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: bytes });
  const signing = signer === 'none' ? undefined : await openpgp.readPrivateKey({ armoredKey: keys[signer].privateKey });
  return (await openpgp.encrypt({
    message,
    encryptionKeys: await openpgp.readKey({ armoredKey: keys.ours.publicKey }),
    ...(signing ? { signingKeys: signing } : {}),
    format: 'binary',
  })) as Uint8Array;
}

/** CSV text as a Windows-1252, gzip-compressed file's bytes. */
/**
 * Encrypts to our key with real GnuPG as a partner's system would: signed by the partner
 * (`gpg --encrypt --sign`) or not, binary or armored. Its GnuPG home, and the agent the import of a
 * private key starts there, are gone when it returns.
 */
export function gpgEncrypt(keys: PgpKeys, input: Uint8Array, options: { sign: boolean; armor?: boolean } = { sign: true }): Buffer {
  const home = mkdtempSync(join(tmpdir(), 'ferry-gnupg-'));
  const gpg = (args: string[], stdin?: string) => execFileSync('gpg', ['--homedir', home, '--batch', '--yes', '--quiet', ...args], { input: stdin, stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    gpg(['--import'], keys.partner.privateKey);
    gpg(['--import'], keys.ours.publicKey);
    const plain = join(home, 'plain');
    writeFileSync(plain, input);
    const how = [...(options.armor ? ['--armor'] : []), '--encrypt', ...(options.sign ? ['--sign', '-u', 'payroll@example.org'] : [])];
    gpg(['--trust-model', 'always', ...how, '-r', 'ferry@example.org', '--output', `${plain}.out`, plain]);
    return readFileSync(`${plain}.out`);
  } finally {
    execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    rmSync(home, { recursive: true, force: true });
  }
}

export const win1252Gzip = (text: string) => gzipSync(iconv.encode(text, 'win1252'));

export const TARGET_SQL = `
CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text, salary numeric(10,2), born date, archived boolean NOT NULL DEFAULT false);
`;

export const EMPLOYEE_FILE: FileSource = {
  pattern: 'employees-*.csv.gz.pgp',
  contents: 'Snapshot',
  orderCapture: '-(\\d{8})\\.csv',
  csv: { delimiter: ';', encoding: 'Windows-1252', decimalSeparator: ',' },
  columns: [
    { name: 'salary', type: 'Decimal' },
    { name: 'born', type: 'Date' },
  ],
  dateFormat: 'DD.MM.YYYY',
};

export function filesFlowSpec(source: SyncFlowSpec['source']['files'], file: FileSource = EMPLOYEE_FILE): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { files: source },
    target: { postgres: { secretRef: { name: 'dst' } } },
    batchSize: 2,
    entities: [
      {
        name: 'employees',
        source: { table: 'employees', keys: ['no'], file },
        target: { table: 'staff', keys: ['id'], archive: { column: 'archived' } },
        fields: [
          { source: 'no', target: 'employee_no' },
          { source: 'name', target: 'name' },
          { source: 'note', target: 'note' },
          { source: 'salary', target: 'salary' },
          { source: 'born', target: 'born' },
        ],
        match: [{ source: 'no', target: 'employee_no' }],
        actions: ['link', 'createInTarget', 'updateTarget', 'deleteInTarget'],
      },
    ],
  } as SyncFlowSpec;
}

export const SECRETS = (keys: PgpKeys) => ({
  'payroll-pgp': { privateKey: keys.ours.privateKey, passphrase: 'open sesame' },
  'payroll-signer': { publicKey: keys.partner.publicKey },
});

export const DECRYPTION = { secretRef: { name: 'payroll-pgp' }, verify: { secretRef: { name: 'payroll-signer' } } };

/** A run of a files flow (its source over a directory, decrypted with `keys`) into `targetUrl`, logging nothing. */
/** A run of a files flow whose files are in a local directory (`keys`: the decryption and signer Secrets). */
/** `reach`: the ExportTargets and Secrets of a source on an SFTP/FTPS server (see remote-inbox.ts). */
export function runFilesFlow(options: {
  flowId: string;
  spec: SyncFlowSpec;
  mode: SyncMode;
  targetUrl: string;
  stateUrl: string;
  keys?: PgpKeys;
  dryRun?: boolean;
  keptCopiesBytes?: number;
  reach?: { targets: Record<string, ExportTargetSpec>; secrets: Record<string, Record<string, string>> };
}) {
  const { flowId, spec, mode, targetUrl, stateUrl, keys, dryRun, keptCopiesBytes, reach } = options;
  const files = { targets: reach?.targets ?? {}, secrets: { ...reach?.secrets, ...(keys ? SECRETS(keys) : {}) }, ...(keptCopiesBytes !== undefined ? { keptCopiesBytes } : {}) };
  return runSync({ flowId, spec, mode, sourceUrl: '', targetUrl, stateUrl, logger: pino({ level: 'silent' }), ...(dryRun ? { dryRun } : {}), files });
}

export async function inbox(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ferry-inbox-'));
}

export async function drop(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  await writeFile(join(dir, name), bytes);
}

/** A zip archive of one deflated file, written by hand (local header, data, central directory, end record). */
export function zipOf(name: string, content: Uint8Array): Buffer {
  return zipOfFiles([[name, content]]);
}

/** A zip archive of deflated files, in this order (local headers and data, then the central directory, then the end record). */
export function zipOfFiles(files: [name: string, content: Uint8Array][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of files) {
    const data = deflateRawSync(content);
    const fileName = Buffer.from(name);
    const common = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at); // version needed
      header.writeUInt16LE(0, at + 2); // flags
      header.writeUInt16LE(8, at + 4); // deflate
      header.writeUInt32LE(0, at + 6); // DOS time and date
      header.writeUInt32LE(crc32(content), at + 10);
      header.writeUInt32LE(data.length, at + 14);
      header.writeUInt32LE(content.length, at + 18);
      header.writeUInt16LE(fileName.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    common(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    common(central, 6);
    central.writeUInt32LE(offset, 42); // offset of the local header
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Employees: a daily snapshot from payroll (read-only) on one side, the staff table on the other. */
export function twoWayEmployees(actions: Entity['actions']): Entity {
  return {
    name: 'employees',
    source: { table: 'employees', keys: ['no'], file: { pattern: 'employees-*.csv', contents: 'Snapshot', orderCapture: '-(\\d{8})\\.csv' } },
    target: { table: 'staff', keys: ['id'], updatedAt: 'changed_at', archive: { column: 'archived' } },
    fields: [
      { source: 'no', target: 'employee_no' },
      { source: 'name', target: 'name' },
      // A note both systems changed waits for a person; everything else takes the file's value.
      { source: 'note', target: 'note', conflictPolicy: 'Manual' },
    ],
    match: [{ source: 'no', target: 'employee_no' }],
    actions,
    conflictPolicy: 'SourceWins',
  };
}

/**
 * A MariaDB database with the two-way files tests' staff table (Ann, who is also in the file, and Dora,
 * who is only in the database), and a fresh state database beside it.
 */
export async function mariaDbStaff(name: string) {
  const [maria, stateUrl] = await Promise.all([testDatabase('mysql', name), freshDatabase(`${name}_my_state`)]);
  await maria.exec(
    `CREATE TABLE staff (id bigint AUTO_INCREMENT PRIMARY KEY, employee_no varchar(20) NOT NULL UNIQUE, name varchar(100), note varchar(200),
      archived tinyint(1) NOT NULL DEFAULT 0, changed_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;
     INSERT INTO staff (employee_no, name, note) VALUES ('1', 'Ann Old', 'hello'), ('9', 'Dora', 'db only');`,
  );
  return { maria, stateUrl };
}
