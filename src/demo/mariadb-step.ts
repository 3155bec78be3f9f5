import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2';
import type { Logger } from 'pino';
import { runSync } from '../connectors/run.js';
import { renderReport, type ReportFormat } from '../report/formats.js';
import { loadValidManifests } from '../local/local-run.js';
import { mariadbInstalled, startMariaDb } from '../local/mariadb-server.js';
import { packageRoot } from '../util/package-root.js';

const EXAMPLE_DIR = () => join(packageRoot(), 'examples', 'association-mariadb');

/** Creates the website database on the demo's MariaDB server and returns its URL. */
async function createWebsite(serverUrl: string): Promise<string> {
  const admin = mysql.createConnection({ uri: serverUrl, multipleStatements: true });
  try {
    await admin.promise().query('CREATE DATABASE website CHARACTER SET utf8mb4; USE website;');
    await admin.promise().query(readFileSync(join(EXAMPLE_DIR(), 'website-schema.sql'), 'utf8'));
  } finally {
    await admin.promise().end();
  }
  const url = new URL(serverUrl);
  url.pathname = '/website';
  return url.toString();
}

/**
 * `npm start`'s MariaDB step: the same association synced into a MariaDB website with its own
 * AUTO_INCREMENT ids (examples/association-mariadb), when this machine has MariaDB installed.
 */
export async function runMariaDbStep(
  urls: { sourceUrl: string; stateUrl: string },
  options: { say: (line: string) => void; logger: Logger; output: ReportFormat },
): Promise<void> {
  const { say } = options;
  if (!mariadbInstalled()) {
    say('\n(MariaDB step skipped: install MariaDB, e.g. `apt-get install mariadb-server`, to also see the association synced into a MariaDB website.)');
    return;
  }
  say('\nStarting a throwaway MariaDB server for the website...');
  const server = await startMariaDb();
  try {
    const targetUrl = await createWebsite(server.url);
    const flow = loadValidManifests([join(EXAMPLE_DIR(), 'syncflow.yaml')]).flows[0];
    const base = { flowId: `default/${flow.metadata.name}`, spec: flow.spec, ...urls, targetUrl, logger: options.logger };
    say('\n5) The same association, Full sync into a MariaDB website (AUTO_INCREMENT ids, InnoDB foreign keys):\n');
    say(renderReport(await runSync({ ...base, mode: 'Full' }), options.output));
    const again = await runSync({ ...base, mode: 'Full' });
    const written = again.totals.created + again.totals.updated + again.totals.archived + again.totals.deleted;
    say(`\n   A second Full sync compared ${again.totals.unchanged} unchanged rows and wrote ${written}.`);
  } finally {
    await server.stop();
  }
}
