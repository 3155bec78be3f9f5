import { generateEd25519KeyPair } from '../../../src/util/ssh-keys.js';
import { describe, expect, it } from 'vitest';
import { hostKeyMatches, md5Fingerprint, publicKeyBlob, sha256Fingerprint } from '../../../src/export/transports/host-key.js';
import { backoffDelay, withRetries } from '../../../src/export/transports/retry.js';
import { networkError, TransferError } from '../../../src/export/transports/types.js';

describe('host key pinning', () => {
  const key = generateEd25519KeyPair().public;
  const blob = publicKeyBlob(key);
  const other = publicKeyBlob(generateEd25519KeyPair().public);

  it('matches the pinned OpenSSH key line or its SHA256/MD5 fingerprint, nothing else', () => {
    expect(hostKeyMatches(blob, { hostKey: `${key} comment` })).toBe(true);
    expect(hostKeyMatches(blob, { hostKeyFingerprint: sha256Fingerprint(blob) })).toBe(true);
    expect(hostKeyMatches(blob, { hostKeyFingerprint: `MD5:${md5Fingerprint(blob).slice(4).toUpperCase()}` })).toBe(true);
    expect(hostKeyMatches(other, { hostKey: key })).toBe(false);
    expect(hostKeyMatches(other, { hostKeyFingerprint: sha256Fingerprint(blob) })).toBe(false);
    expect(hostKeyMatches(blob, {})).toBe(false);
  });

  it('formats the fingerprint like ssh-keygen -l', () => {
    expect(sha256Fingerprint(blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('retries', () => {
  const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 350 };

  it('doubles the delay up to the maximum, with half of it jittered', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 175, 175]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 1))).toEqual([100, 200, 350, 350]);
  });

  it('retries transient failures and stops at once on permanent ones', async () => {
    const fast = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 };
    let calls = 0;
    const result = await withRetries(fast, async () => {
      if (++calls < 3) throw new TransferError('TransferFailed', 'connection lost', true);
      return 'ok';
    });
    expect(result).toEqual({ value: 'ok', attempts: 3 });

    calls = 0;
    const permanent = withRetries(fast, async () => {
      calls++;
      throw new TransferError('AuthFailed', 'login refused', false);
    });
    await expect(permanent).rejects.toMatchObject({ reason: 'AuthFailed', attempts: 1 });
    expect(calls).toBe(1);

    const exhausted = withRetries(fast, async () => {
      throw new TransferError('Unreachable', 'refused', true);
    });
    await expect(exhausted).rejects.toMatchObject({ reason: 'Unreachable', attempts: 3 });
  });

  it('classifies socket errors as transient', () => {
    expect(networkError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'x')).toMatchObject({ reason: 'Unreachable', transient: true });
    expect(networkError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'x')).toMatchObject({ reason: 'TransferFailed', transient: true });
    expect(networkError(new Error('something else'), 'x')).toBeUndefined();
  });
});
