import { randomUUID } from 'node:crypto';
import type { CreateIntents } from '../store/create-intents.js';
import type { StateConnection } from '../store/state-connection.js';
import { failpoint } from '../util/failpoint.js';
import type { CreateIntent } from './connector.js';
import type { Transactions } from './transactions.js';

/**
 * The intents of records about to be created on a system that cannot roll a create back (capability
 * `createIntents`), by source key: an intent an earlier attempt left open is reopened with its
 * idempotency key; the others are recorded and committed before any create is sent.
 */
export async function openCreateIntents(store: CreateIntents, tx: Transactions, state: StateConnection, sourceKeys: string[]): Promise<Map<string, CreateIntent>> {
  const open = await store.open(sourceKeys);
  const fresh = sourceKeys.filter((key) => !open.has(key)).map((sourceKey) => ({ sourceKey, idempotencyKey: randomUUID() }));
  await tx.unit(state, () => store.record(fresh));
  failpoint('create-intents:recorded');
  return new Map<string, CreateIntent>([
    ...[...open].map(([key, idempotencyKey]): [string, CreateIntent] => [key, { idempotencyKey, reopened: true }]),
    ...fresh.map(({ sourceKey, idempotencyKey }): [string, CreateIntent] => [sourceKey, { idempotencyKey, reopened: false }]),
  ]);
}

/** The note a run report gives recovered creates. */
export function recoveredCreatesNote(count: number): string {
  return `${count} ${count === 1 ? 'create' : 'creates'} an earlier attempt may have applied (answer lost, or the run stopped before its pair was saved) completed without a second record`;
}
