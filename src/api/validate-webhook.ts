import type { DefaultedSyncFlowSpec } from './defaults.js';
import type { ValidationError } from './validation-error.js';

/**
 * spec.webhook: a Record run names an entity of the flow, and the flow queues runs. Under Forbid a
 * delivery during a run would be rejected (the change then waits for the next poll); under Replace a
 * steady stream of deliveries would cancel every run before it finishes.
 */
export function webhookErrors(spec: DefaultedSyncFlowSpec): ValidationError[] {
  const webhook = spec.webhook;
  if (!webhook) return [];
  const errors: ValidationError[] = [];
  if (spec.concurrencyPolicy !== 'Queue') {
    errors.push({ path: 'spec.concurrencyPolicy', message: `must be Queue with spec.webhook, so a delivery during a run waits for it (${spec.concurrencyPolicy} would ${spec.concurrencyPolicy === 'Forbid' ? 'reject it' : 'cancel the running sync'})` });
  }
  if (webhook.run === 'Record' && !webhook.record) errors.push({ path: 'spec.webhook.record', message: 'required when run is Record' });
  if (webhook.record && webhook.run !== 'Record') errors.push({ path: 'spec.webhook.record', message: 'only read when run is Record' });
  if (webhook.record && !spec.entities.some((entity) => entity.name === webhook.record!.entity)) {
    errors.push({ path: 'spec.webhook.record.entity', message: `no entity named "${webhook.record.entity}" in this flow` });
  }
  return errors;
}
