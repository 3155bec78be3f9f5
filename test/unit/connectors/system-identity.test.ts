import { describe, expect, it } from 'vitest';
import { databaseIdentity } from '../../../src/connectors/system-identity.js';

describe('databaseIdentity (which target two flows share, never credentials)', () => {
  it('keeps host, port and database only', () => {
    expect(databaseIdentity('postgres', 'postgres://ferry:s3cret@DB.example.org:6432/crm?sslmode=require&password=x')).toBe('postgres://db.example.org:6432/crm');
    expect(databaseIdentity('mysql', 'mysql://root:pw@127.0.0.1/site')).toBe('mysql://127.0.0.1:3306/site');
    expect(databaseIdentity('postgres', 'postgres://u@db/crm')).toBe('postgres://db:5432/crm');
  });

  it('takes a socket directory given as ?host=, and gives nothing for what is not a URL', () => {
    expect(databaseIdentity('postgres', 'postgres:///crm?host=/run/postgresql')).toBe('postgres:///run/postgresql:5432/crm');
    expect(databaseIdentity('postgres', 'host=db password=x')).toBeUndefined();
  });
});
