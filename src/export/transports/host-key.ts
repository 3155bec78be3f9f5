import { createHash } from 'node:crypto';

/** Checks a server's raw host key blob against a pinned OpenSSH public key line or fingerprint. */
export function hostKeyMatches(presented: Buffer, pin: { hostKey?: string; hostKeyFingerprint?: string }): boolean {
  if (pin.hostKey) {
    const fields = pin.hostKey.trim().split(/\s+/);
    const blob = Buffer.from(fields.length > 1 ? fields[1] : fields[0], 'base64');
    if (blob.equals(presented)) return true;
  }
  if (pin.hostKeyFingerprint) return pin.hostKeyFingerprint === sha256Fingerprint(presented) || pin.hostKeyFingerprint.toLowerCase() === md5Fingerprint(presented);
  return false;
}

/** `SHA256:<base64 without padding>`, as printed by `ssh-keygen -lf`. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function md5Fingerprint(blob: Buffer): string {
  const hex = createHash('md5').update(blob).digest('hex');
  return `md5:${hex.match(/../g)!.join(':')}`;
}

/** The blob of an OpenSSH public key line (`ssh-ed25519 AAAA... comment`). */
export function publicKeyBlob(line: string): Buffer {
  const fields = line.trim().split(/\s+/);
  return Buffer.from(fields.length > 1 ? fields[1] : fields[0], 'base64');
}
