import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import type { ExportSettings } from '../api/export-settings.js';
import { ConfigError } from '../util/errors.js';
import { requireSecret, type ExportSecrets } from './secrets.js';

export interface EncryptionKeys {
  recipients: openpgp.PublicKey[];
  signing?: openpgp.PrivateKey;
}

const PUBLIC_KEY = 'publicKey';
const PRIVATE_KEY = 'privateKey';
const PASSPHRASE = 'passphrase';

/** Reads the recipients' public keys and the optional signing key from their Secrets. */
export async function loadEncryptionKeys(settings: ExportSettings['encryption'], secrets: ExportSecrets): Promise<EncryptionKeys | undefined> {
  if (!settings) return undefined;
  const recipients: openpgp.PublicKey[] = [];
  for (const [i, recipient] of settings.recipients.entries()) {
    const field = `spec.target.export.encryption.recipients[${i}].secretRef`;
    const armored = requireSecret(secrets, recipient.secretRef, PUBLIC_KEY, field);
    try {
      recipients.push(await openpgp.readKey({ armoredKey: armored }));
    } catch (error) {
      throw new ConfigError(`${field}: not an OpenPGP public key (${(error as Error).message})`);
    }
  }
  if (!settings.signWith) return { recipients };
  const field = 'spec.target.export.encryption.signWith.secretRef';
  const armored = requireSecret(secrets, settings.signWith.secretRef, PRIVATE_KEY, field);
  let signing: openpgp.PrivateKey;
  try {
    signing = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (error) {
    throw new ConfigError(`${field}: not an OpenPGP private key (${(error as Error).message})`);
  }
  if (!signing.isDecrypted()) {
    const passphrase = secrets[settings.signWith.secretRef.name]?.[PASSPHRASE];
    if (passphrase === undefined) throw new ConfigError(`${field}: the key is protected; add its "${PASSPHRASE}" to the Secret`);
    try {
      signing = await openpgp.decryptKey({ privateKey: signing, passphrase });
    } catch (error) {
      throw new ConfigError(`${field}: cannot unlock the signing key (${(error as Error).message})`);
    }
  }
  return { recipients, signing };
}

/** Encrypts (and optionally signs) a byte stream as a binary OpenPGP message, streaming. */
export async function encryptStream(input: Readable, keys: EncryptionKeys): Promise<Readable> {
  const message = await openpgp.createMessage({ binary: Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>, format: 'binary' });
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: keys.recipients,
    ...(keys.signing ? { signingKeys: keys.signing } : {}),
    format: 'binary',
  });
  return Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>);
}
