import { describe, expect, it } from 'vitest';
import { apiErrorOf } from '../../../../src/connectors/http/api-error.js';
import { StartGate } from '../../../../src/connectors/http/rate-limit.js';
import { fullJitterDelay, retryAfterMs } from '../../../../src/connectors/http/retry.js';

describe('apiErrorOf', () => {
  it('reads WordPress errors with the field from data.params', () => {
    const body = { code: 'rest_invalid_param', message: 'Invalid parameter(s): status', data: { status: 400, params: { status: 'status is not one of publish, future.' } } };
    expect(apiErrorOf(body, '')).toEqual({ code: 'rest_invalid_param', message: 'Invalid parameter(s): status (status is not one of publish, future.)', field: 'status' });
  });

  it('reads RFC 7807, OAuth, nested and list/map error shapes', () => {
    expect(apiErrorOf({ title: 'Invalid Resource', detail: 'email looks fake', status: 400 }, '')).toMatchObject({ message: 'email looks fake' });
    expect(apiErrorOf({ error: 'invalid_client', error_description: 'bad secret' }, '')).toEqual({ code: 'invalid_client', message: 'bad secret', field: undefined });
    expect(apiErrorOf({ error: { code: 'E42', message: 'nope' } }, '')).toEqual({ code: 'E42', message: 'nope', field: undefined });
    expect(apiErrorOf({ errors: [{ field: 'email_address', message: 'is invalid' }] }, '')).toMatchObject({ field: 'email_address', message: 'is invalid' });
    expect(apiErrorOf({ errors: { name: ['is too long'] } }, '')).toMatchObject({ field: 'name', message: 'is too long' });
  });

  it('falls back to the text of a non-JSON body', () => {
    expect(apiErrorOf(undefined, '<html><body><h1>Bad   Gateway</h1></body></html>')).toEqual({ message: 'Bad Gateway' });
    expect(apiErrorOf(undefined, '')).toEqual({});
  });
});

describe('retry arithmetic', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('draws full-jitter delays below a doubling ceiling capped at the maximum', () => {
    expect(fullJitterDelay(1, 100, 1_000, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, 100, 1_000, () => 0.999)).toBe(399);
    expect(fullJitterDelay(10, 100, 1_000, () => 0.999)).toBe(999);
    expect(fullJitterDelay(3, 100, 1_000, () => 0)).toBe(0);
  });
});

describe('StartGate', () => {
  it('spaces starts by the rate and holds all of them during a pause', async () => {
    const gate = new StartGate(20);
    const started = Date.now();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => gate.take().then(() => times.push(Date.now() - started))));
    expect(times[4]).toBeGreaterThanOrEqual(4 * 50 - 5);

    const paused = new StartGate();
    const from = Date.now();
    paused.pauseUntil(from + 300);
    await paused.take();
    expect(Date.now() - from).toBeGreaterThanOrEqual(295);
  });
});
