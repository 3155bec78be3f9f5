import ssh2 from 'ssh2';

/**
 * A new ed25519 key pair in OpenSSH format. ssh2's generator drops a public key's leading zero
 * byte (about one key in 256), and such a key then fails to parse ("Malformed OpenSSH private
 * key"), so a pair is drawn again until ssh2 reads it back.
 */
export function generateEd25519KeyPair(): { private: string; public: string } {
  for (let attempt = 0; ; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
    if (attempt >= 20) throw new Error('ssh2 could not generate a readable ed25519 key pair');
  }
}
