import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from '../../../src/util/ssh-keys.js';

describe('generateEd25519KeyPair', () => {
  // ssh2's own generator gives an unreadable pair about once in 256 draws; 2,000 draws see several.
  it('only returns pairs ssh2 reads back, with a 32-byte public key', () => {
    for (let i = 0; i < 2000; i++) {
      const pair = generateEd25519KeyPair();
      const parsed = ssh2.utils.parseKey(pair.private);
      expect(parsed).not.toBeInstanceOf(Error);
      const blob = (parsed as ssh2.ParsedKey).getPublicSSH();
      // The wire blob: string "ssh-ed25519" (4 + 11 bytes), then the 32-byte key with its length.
      expect(blob.length).toBe(4 + 11 + 4 + 32);
    }
  });
});
