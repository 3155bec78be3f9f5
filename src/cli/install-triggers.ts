import { Command } from 'commander';
import { databaseOf } from '../api/systems.js';
import { connect } from '../connectors/postgres/connect.js';
import { installChangeTriggers, uninstallChangeTriggers } from '../connectors/postgres/triggers.js';
import { addFlowOptions, withFlowDatabases } from './pairs.js';

export function registerInstallTriggersCommand(program: Command): void {
  addFlowOptions(
    program
      .command('install-triggers')
      .description(
        "install statement-level triggers that NOTIFY Ferry of changes to the flow's tables (source; also target for TwoWay), so `ferry run --watch` picks changes up in under a second",
      ),
  )
    .option('--uninstall', 'remove the triggers again')
    .action(async (options) => {
      await withFlowDatabases(options, async (dbs) => {
        const spec = dbs.flow.spec;
        const sides: { side: 'source' | 'target'; url: string }[] = [{ side: 'source', url: dbs.sourceUrl }];
        if (spec.direction === 'TwoWay') sides.push({ side: 'target', url: dbs.targetUrl });
        for (const { side, url } of sides) {
          const database = databaseOf(spec[side], side);
          if (side === 'source' && spec.source.files) {
            process.stdout.write(`skipped the ${side}: a files source has no change triggers; \`ferry run --watch\` lists its location every --interval\n`);
            continue;
          }
          if (database?.kind !== 'postgres') {
            process.stdout.write(`skipped the ${side}: change triggers need PostgreSQL; \`ferry run --watch\` polls ${database?.path ?? `spec.${side}`}\n`);
            continue;
          }
          const schema = database.namespace;
          const tables = spec.entities.map((e) => e[side].table);
          const client = await connect(url, `the ${side} database`);
          try {
            if (options.uninstall) await uninstallChangeTriggers(client, schema, tables);
            else await installChangeTriggers(client, schema, tables);
          } finally {
            await client.end();
          }
          process.stdout.write(`${options.uninstall ? 'removed' : 'installed'} change triggers on ${new Set(tables).size} ${side} tables (schema ${schema})\n`);
        }
      });
    });
}
