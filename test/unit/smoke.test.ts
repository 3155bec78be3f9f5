import { describe, expect, it } from 'vitest';
import { freshDatabase, withClient } from '../helpers/databases.js';

describe('test infrastructure', () => {
  it('gives each test a fresh database on a real PostgreSQL server', async () => {
    const url = await freshDatabase('smoke');
    const version = await withClient(url, async (c) => (await c.query('SHOW server_version')).rows[0].server_version);
    expect(version).toMatch(/^18\./);
  });
});
