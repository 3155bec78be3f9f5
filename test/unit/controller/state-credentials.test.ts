import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_ROTATE_REQUESTED,
  ANNOTATION_ROTATED_FOR,
  buildCredentialsSecret,
  credentialsAction,
} from '../../../src/controller/state-credentials.js';
import { namespaceRoleName, namespaceStateUrl, scramVerifier } from '../../../src/store/tenant-roles.js';

const secret = { name: 'ferry-state-db-credentials', key: 'url' };

describe("a namespace's state database credentials Secret", () => {
  const built = buildCredentialsSecret({ namespace: 'team-a', secret, url: 'postgres://r:p@db/ferry', role: 'ferry.team-a.ferry', rotatedAt: new Date('2026-01-01T00:00:00Z') });

  it('is labelled as Ferry-managed and names the role, not the password', () => {
    expect(built.metadata).toMatchObject({
      name: 'ferry-state-db-credentials',
      namespace: 'team-a',
      labels: { 'app.kubernetes.io/managed-by': 'ferry', 'ferry.dev/credentials': 'state-db' },
      annotations: { 'ferry.dev/role': 'ferry.team-a.ferry', 'ferry.dev/rotated-at': '2026-01-01T00:00:00.000Z' },
    });
    expect(built.stringData).toEqual({ url: 'postgres://r:p@db/ferry' });
    expect(JSON.stringify(built.metadata)).not.toContain(':p@');
  });

  it('is issued when missing or on a new rotation request, kept otherwise, and never taken over', () => {
    expect(credentialsAction(undefined, 'url')).toBe('issue');
    expect(credentialsAction(built, 'url', { url: 'x' })).toBe('keep');
    expect(credentialsAction(built, 'url', {})).toBe('issue');
    const requested = { metadata: { ...built.metadata, annotations: { ...built.metadata!.annotations, [ANNOTATION_ROTATE_REQUESTED]: 't1' } } };
    expect(credentialsAction(requested, 'url', { url: 'x' })).toBe('issue');
    const answered = { metadata: { ...requested.metadata, annotations: { ...requested.metadata.annotations, [ANNOTATION_ROTATED_FOR]: 't1' } } };
    expect(credentialsAction(answered, 'url', { url: 'x' })).toBe('keep');
    expect(credentialsAction({ metadata: { name: 'ferry-state-db-credentials' } }, 'url', { url: 'x' })).toBe('refuse');
  });
});

describe('namespace roles', () => {
  it('are named after namespace and database, within 63 bytes and distinct when cut', () => {
    expect(namespaceRoleName('team-a', 'ferry')).toBe('ferry.team-a.ferry');
    const long = 'n'.repeat(63);
    const [one, two] = [namespaceRoleName(long, 'prod'), namespaceRoleName(long, 'staging')];
    expect(Buffer.byteLength(one)).toBeLessThanOrEqual(63);
    expect(one).not.toBe(two);
  });

  it('get URLs with their own user and password, the rest of the owner URL kept', () => {
    const url = namespaceStateUrl('postgres://owner:secret@db.svc:5432/ferry?sslmode=require', { role: 'ferry.team-a.ferry', password: 'p/w#1' });
    expect(url).toBe('postgres://ferry.team-a.ferry:p%2Fw%231@db.svc:5432/ferry?sslmode=require');
  });

  it('have passwords stored as SCRAM-SHA-256 verifiers (RFC 7677 test vector)', () => {
    // The verifier PostgreSQL derives for password "pencil" with this salt and 4096 iterations.
    const verifier = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
    expect(verifier).toBe('SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=');
  });
});
