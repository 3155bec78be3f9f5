import pg from 'pg';
import { createTargetSchema, generateAssociation } from '../src/demo/index.js';
import { ensureDatabase } from '../src/local/embedded-server.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../src/util/embedded-postgres.js';

/**
 * Two throwaway embedded PostgreSQL servers, as in a deployment: the business systems (the
 * `association` source and the `website` target; here on one server) and Ferry's own state
 * database on a separate server.
 */
export interface Servers {
  business: RunningPostgres;
  state: RunningPostgres;
  stop(): Promise<void>;
}

export async function startServers(): Promise<Servers> {
  const business = await startEmbeddedPostgres({ persistent: false });
  const state = await startEmbeddedPostgres({ persistent: false }).catch(async (error) => {
    await business.stop();
    throw error;
  });
  return {
    business,
    state,
    stop: async () => {
      await Promise.allSettled([business.stop(), state.stop()]);
    },
  };
}

/** The databases of one dataset size. */
export interface Dataset {
  people: number;
  source: string;
  target: string;
  state: string;
  /** The baseline's copy of the target schema; only for the main dataset. */
  baseline?: string;
  rows: number;
}

/** Creates `association<suffix>` with `people` people, an empty `website<suffix>` and `ferry_state<suffix>`. */
export async function createDataset(servers: Servers, people: number, suffix: string, withBaseline: boolean): Promise<Dataset> {
  const source = await ensureDatabase(servers.business.url, `association${suffix}`);
  const target = await ensureDatabase(servers.business.url, `website${suffix}`);
  const state = await ensureDatabase(servers.state.url, `ferry_state${suffix}`);
  const summary = await generateAssociation(source, { people });
  await createTargetSchema(target);
  let baseline: string | undefined;
  if (withBaseline) {
    baseline = await ensureDatabase(servers.business.url, `website_baseline${suffix}`);
    await createTargetSchema(baseline);
  }
  return { people, source, target, state, baseline, rows: summary.totalRows };
}

/** Flushes dirty buffers on both servers so one step's writes are not charged to the next. */
export async function checkpoint(servers: Servers): Promise<void> {
  for (const url of [servers.business.url, servers.state.url]) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CHECKPOINT');
    } finally {
      await client.end();
    }
  }
}
