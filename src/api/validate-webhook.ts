import type { DefaultedSyncFlowSpec } from './defaults.js';
import type { ValidationError } from './validation-error.js';

/** spec.webhook: a Record run names an entity of the flow. */
export function webhookErrors(spec: DefaultedSyncFlowSpec): ValidationError[] {
  const webhook = spec.webhook;
  if (!webhook) return [];
  if (webhook.run === 'Record' && !webhook.record) return [{ path: 'spec.webhook.record', message: 'required when run is Record' }];
  if (webhook.record && webhook.run !== 'Record') return [{ path: 'spec.webhook.record', message: 'only read when run is Record' }];
  if (webhook.record && !spec.entities.some((entity) => entity.name === webhook.record!.entity)) {
    return [{ path: 'spec.webhook.record.entity', message: `no entity named "${webhook.record.entity}" in this flow` }];
  }
  return [];
}
