import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { manifestSource, type LoadedManifests } from '../api/manifests.js';
import { checkManifestSchema } from '../api/schema-check.js';
import type { SyncFlow } from '../api/syncflow.js';
import { databaseOf, type SystemSide } from '../api/systems.js';
import type { ColumnType, TableCatalog } from '../api/validate-catalog.js';
import { connectorFor } from '../connectors/index.js';
import type { Connector, TableInfo } from '../engine/connector.js';
import { defaultDataDir, openLocalServer } from '../local/embedded-server.js';
import { databaseUrlOf } from '../local/local-run.js';
import { embeddedDatabaseName } from '../local/secrets.js';
import { redactSecrets, redactUrl } from '../util/errors.js';
import { withinTime } from '../util/within-time.js';

/** A catalog read gets this long (connect included) before the side is reported as unreachable. */
const READ_TIMEOUT_MS = 15_000;

export interface FlowCatalogs {
  /** Per flow, the catalog of the sides that could be read. */
  catalogs: Map<SyncFlow, TableCatalog>;
  /** One line per flow whose databases could not all be read, secrets masked. */
  notes: string[];
}

type Tables = Map<string, TableInfo>;

/** One line with every trace of the URLs' secrets masked (drivers are not trusted to leave them out). */
function maskedMessage(error: unknown, urls: string[]): string {
  return redactSecrets((error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' '), urls);
}

async function readTables(connector: Connector, namespace: string, tables: string[]): Promise<Tables> {
  const session = await connector.open();
  try {
    return await session.readCatalog(namespace, tables);
  } finally {
    await session.close();
  }
}

/**
 * Joins (or starts) the local embedded server on first use, as `ferry run` does. Validating never
 * creates one: no server yet means no database to check.
 */
class EmbeddedUrls {
  private server: Awaited<ReturnType<typeof openLocalServer>> | undefined;

  async resolve(url: string): Promise<string> {
    const database = embeddedDatabaseName(url);
    if (!database) return url;
    const dataDir = defaultDataDir();
    if (!existsSync(join(dataDir, 'PG_VERSION'))) throw new Error(`${url}: no local embedded server in ${dataDir} yet (ferry run creates it)`);
    this.server ??= await openLocalServer(dataDir);
    const resolved = new URL(this.server.url);
    resolved.pathname = `/${database}`;
    return resolved.toString();
  }

  async close(): Promise<void> {
    if (this.server?.startedHere) await this.server.stop();
  }
}

async function readSide(loaded: LoadedManifests, flow: SyncFlow, side: SystemSide, urls: EmbeddedUrls): Promise<Tables | undefined> {
  const database = databaseOf(flow.spec[side], side);
  const secretUrl = databaseUrlOf(loaded, flow.spec, side);
  if (!database || secretUrl === undefined) return undefined;
  let url = secretUrl;
  try {
    url = await urls.resolve(secretUrl);
    const connector = await connectorFor(flow.spec, side, url);
    if (!connector) return undefined;
    const tables = [...new Set((flow.spec.entities ?? []).map((entity) => entity[side].table))];
    return await withinTime(readTables(connector, database.namespace, tables), READ_TIMEOUT_MS, () => `${connector.what} at ${redactUrl(url)} did not answer within ${READ_TIMEOUT_MS / 1000} s`);
  } catch (error) {
    throw new Error(maskedMessage(error, [...new Set([url, secretUrl])]));
  }
}

function catalogOf(read: Partial<Record<SystemSide, Tables>>): TableCatalog {
  const column = (side: SystemSide, table: string, name: string) => read[side]?.get(table)?.columns.get(name);
  return {
    sides: (['source', 'target'] as const).filter((side) => read[side] !== undefined),
    tableColumns: (side, table) => {
      const info = read[side]?.get(table);
      return info && [...info.columns.keys()];
    },
    columnType: (side, table, name): ColumnType | undefined => column(side, table, name),
  };
}

function noteFor(flow: SyncFlow, problems: Partial<Record<SystemSide, string>>): string {
  const sides = Object.keys(problems) as SystemSide[];
  const label = `${manifestSource(flow) ?? flow.metadata.name}: note: SyncFlow "${flow.metadata.name}"`;
  return `${label}: ${sides.join(' and ')} database${sides.length > 1 ? 's' : ''} not checked: ${Object.values(problems).join('; ')}`;
}

async function readFlow(loaded: LoadedManifests, flow: SyncFlow, urls: EmbeddedUrls): Promise<{ catalog?: TableCatalog; note?: string }> {
  const read: Partial<Record<SystemSide, Tables>> = {};
  const problems: Partial<Record<SystemSide, string>> = {};
  for (const side of ['source', 'target'] as const) {
    try {
      const tables = await readSide(loaded, flow, side, urls);
      if (tables) read[side] = tables;
    } catch (error) {
      problems[side] = error instanceof Error ? error.message : String(error);
    }
  }
  return {
    ...(read.source || read.target ? { catalog: catalogOf(read) } : {}),
    ...(problems.source || problems.target ? { note: noteFor(flow, problems) } : {}),
  };
}

/**
 * Reads the tables each schema-valid flow names from both of its databases, reached through the
 * flow's Secrets among the manifests. A database that cannot be read becomes a note, never an error.
 */
export async function readFlowCatalogs(loaded: LoadedManifests): Promise<FlowCatalogs> {
  const catalogs = new Map<SyncFlow, TableCatalog>();
  const notes: string[] = [];
  const urls = new EmbeddedUrls();
  try {
    for (const flow of loaded.flows.filter((f) => checkManifestSchema(f).length === 0)) {
      const { catalog, note } = await readFlow(loaded, flow, urls);
      if (catalog) catalogs.set(flow, catalog);
      if (note) notes.push(note);
    }
  } finally {
    await urls.close();
  }
  return { catalogs, notes };
}
