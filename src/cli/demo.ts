import { join } from 'node:path';
import { Command, Option } from 'commander';
import pg from 'pg';
import { renderReport, type ReportFormat } from '../report/formats.js';
import { runSync } from '../connectors/run.js';
import { defaultDataDir, ensureDatabase, openLocalServer } from '../local/embedded-server.js';
import { embeddedDatabaseName } from '../local/secrets.js';
import { loadValidManifests } from '../local/local-run.js';
import { packageRoot } from '../util/package-root.js';
import { startEmbeddedPostgres } from '../util/embedded-postgres.js';
import { createLogger } from '../util/logger.js';
import { ConfigError } from '../util/errors.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`expected a positive whole number, got "${value}"`);
  return n;
}

const RECORD_PERSON = '42';

async function touchPerson(sourceUrl: string, id: string): Promise<void> {
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  try {
    await client.query(`UPDATE people SET phone = '+1 555 0100', updated_at = now() WHERE id = $1`, [id]);
  } finally {
    await client.end();
  }
}

/** `npm start`: the association demo end to end on a throwaway embedded PostgreSQL. */
async function runDemo(options: { people: number; output: ReportFormat }): Promise<void> {
  const { applyDemoChanges, createTargetSchema, generateAssociation } = await import('../demo/index.js');
  const logger = createLogger({ level: process.env.FERRY_LOG_LEVEL ?? 'warn' });
  const say = (line: string) => process.stdout.write(line + '\n');
  say(`Starting an embedded PostgreSQL server...`);
  const server = await startEmbeddedPostgres({ persistent: false });
  try {
    const sourceUrl = await ensureDatabase(server.url, 'association');
    const targetUrl = await ensureDatabase(server.url, 'website');
    const stateUrl = await ensureDatabase(server.url, 'ferry_state');
    say(`Generating the "association" source database with ${options.people} people, and an empty "website" target...`);
    await generateAssociation(sourceUrl, { people: options.people });
    await createTargetSchema(targetUrl);

    const manifests = loadValidManifests([join(packageRoot(), 'examples', 'association', 'syncflow.yaml')]);
    const flow = manifests.flows[0];
    const base = { flowId: `default/${flow.metadata.name}`, spec: flow.spec, sourceUrl, targetUrl, stateUrl, logger };

    say('\n1) Full sync into the empty website:\n');
    say(renderReport(await runSync({ ...base, mode: 'Full' }), options.output));

    const changes = await applyDemoChanges(sourceUrl, { updates: 40, inserts: 10, deletes: 0 });
    say(`\nChanged the source: ${JSON.stringify(changes)}`);
    say('\n2) Incremental sync of just those changes:\n');
    say(renderReport(await runSync({ ...base, mode: 'Incremental' }), options.output));

    await touchPerson(sourceUrl, RECORD_PERSON);
    say(`\n3) Record sync of person ${RECORD_PERSON} (just changed), with their lookups, registrations and balances:\n`);
    say(renderReport(await runSync({ ...base, mode: 'Record', record: { entity: 'people', key: RECORD_PERSON } }), options.output));

    say('\n4) Scope sync of "events" (events and their related data, without registrations), Full within the scope:\n');
    say(renderReport(await runSync({ ...base, mode: 'Scope', scope: 'events', scopeMode: 'Full' }), options.output));

    const { runMariaDbStep } = await import('../demo/mariadb-step.js');
    await runMariaDbStep({ sourceUrl, stateUrl }, { say, logger, output: options.output });

    const { runExportStep } = await import('../demo/export-step.js');
    await runExportStep(server.url, { say, logger });
  } finally {
    await server.stop();
  }
}

export function registerDemoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('run the association demo on an embedded PostgreSQL: Full sync, change rows, Incremental sync')
    .addOption(new Option('--people <n>', 'people to generate').argParser(positiveInt).default(2000))
    .addOption(new Option('-o, --output <format>', 'report format').choices(['table', 'json', 'markdown', 'html']).default('table'))
    .action(async (options) => runDemo({ people: options.people, output: options.output }));

  demo
    .command('generate')
    .description('create and fill the demo association source database (deterministic)')
    .requiredOption('--url <url>', 'source database URL (postgres://… or embedded://<database>)')
    .addOption(new Option('--people <n>', 'people to generate').argParser(positiveInt).default(2000))
    .addOption(new Option('--seed <n>', 'generator seed').argParser(positiveInt).default(1))
    .option('--target-url <url>', 'also create the empty website schema in this database')
    .option('--data-dir <dir>', 'data directory of the embedded PostgreSQL for embedded:// URLs')
    .action(async (options) => {
      const { createTargetSchema, generateAssociation } = await import('../demo/index.js');
      let server: Awaited<ReturnType<typeof openLocalServer>> | undefined;
      const resolve = async (url: string) => {
        const database = embeddedDatabaseName(url);
        if (!database) return url;
        server ??= await openLocalServer(options.dataDir ?? defaultDataDir());
        return ensureDatabase(server.url, database);
      };
      try {
        const summary = await generateAssociation(await resolve(options.url), { people: options.people, seed: options.seed });
        if (options.targetUrl) await createTargetSchema(await resolve(options.targetUrl));
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      } finally {
        if (server?.startedHere) await server.stop();
      }
    });
}
