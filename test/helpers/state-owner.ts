import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withClient } from './databases.js';

/**
 * The URL of a non-superuser role that owns the database at `adminUrl` (as the controller's
 * credential owns the state database): row-level security binds it, where a superuser bypasses it.
 */
export async function nonSuperuserOwner(adminUrl: string): Promise<string> {
  const database = new URL(adminUrl).pathname.slice(1);
  const role = `owner_${database}`.slice(0, 60);
  const password = randomBytes(18).toString('base64url');
  await withClient(adminUrl, async (c) => {
    await c.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(password)}`);
    await c.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} OWNER TO ${pg.escapeIdentifier(role)}`);
  });
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}
