import * as openpgp from 'openpgp';
import type { FilesDecryption } from '../../api/files.js';
import { requireSecret, type ExportSecrets } from '../../export/secrets.js';
import { ConfigError } from '../../util/errors.js';
import type { DecryptionKeys } from './decode.js';

const FIELD = 'spec.source.files.decryption';

/** The private key (unlocked with its passphrase) and the sender's pinned public key, from their Secrets. */
export async function loadDecryptionKeys(settings: FilesDecryption | undefined, secrets: ExportSecrets): Promise<DecryptionKeys | undefined> {
  if (!settings) return undefined;
  const armored = requireSecret(secrets, settings.secretRef, 'privateKey', `${FIELD}.secretRef`);
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (error) {
    throw new ConfigError(`${FIELD}.secretRef: not an OpenPGP private key (${(error as Error).message})`);
  }
  if (!key.isDecrypted()) {
    const passphrase = secrets[settings.secretRef.name]?.passphrase;
    if (passphrase === undefined) throw new ConfigError(`${FIELD}.secretRef: the key is protected; add its "passphrase" to the Secret`);
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    } catch (error) {
      throw new ConfigError(`${FIELD}.secretRef: cannot unlock the private key (${(error as Error).message})`);
    }
  }
  if (!settings.verify) return { privateKeys: [key], requireSignature: false };
  const pinned = requireSecret(secrets, settings.verify.secretRef, 'publicKey', `${FIELD}.verify.secretRef`);
  try {
    return { privateKeys: [key], verificationKey: await openpgp.readKey({ armoredKey: pinned }), requireSignature: settings.verify.required ?? true };
  } catch (error) {
    throw new ConfigError(`${FIELD}.verify.secretRef: not an OpenPGP public key (${(error as Error).message})`);
  }
}
