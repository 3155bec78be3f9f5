import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { redactUrl } from '../../src/util/errors.js';

describe('logging never leaks credentials', () => {
  it('redacts URLs, passwords and secret data wherever they sit', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ pretty: false, destination: sink });
    logger.info({ url: 'postgres://u:hunter2@db/x', source: { url: 'postgres://u:hunter2@db/y', password: 'hunter2' }, stringData: { url: 'x' }, signWith: { passphrase: 'hunter2', privateKey: 'hunter2' } }, 'connecting');
    const out = lines.join('');
    expect(out).toContain('connecting');
    expect(out).toContain('[redacted]');
    expect(out).not.toContain('hunter2');
  });

  it('hides the password of a URL shown in an error', () => {
    expect(redactUrl('postgres://ferry:pa%40ss@db.example:5432/app')).toBe('postgres://ferry:***@db.example:5432/app');
    expect(redactUrl('postgres://db.example/app')).toBe('postgres://db.example/app');
  });
});
