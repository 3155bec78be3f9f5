import type { DefaultedSyncFlowSpec } from './defaults.js';
import type { HttpEndpoint } from './http.js';
import { fieldPath, type ValidationError } from './validation-error.js';

const error = (path: string, message: string): ValidationError => ({ path, message });

function checkEndpoint(errors: ValidationError[], endpoint: HttpEndpoint, path: string): void {
  const auth = endpoint.auth;
  if (auth?.type === 'ApiKey' && !auth.apiKey) errors.push(error(fieldPath(path, 'auth', 'apiKey'), 'required when type is ApiKey'));
  if (auth?.type === 'OAuth2ClientCredentials' && !auth.tokenUrl) errors.push(error(fieldPath(path, 'auth', 'tokenUrl'), 'required when type is OAuth2ClientCredentials'));
  if (auth && auth.type !== 'ApiKey' && auth.apiKey) errors.push(error(fieldPath(path, 'auth', 'apiKey'), `only used with type ApiKey, not ${auth.type}`));
  if (endpoint.tls?.insecureSkipVerify && endpoint.tls.caSecretRef) {
    errors.push(error(fieldPath(path, 'tls', 'insecureSkipVerify'), 'set either caSecretRef or insecureSkipVerify, not both'));
  }
}

/**
 * The http parts of a flow: a resource on every entity side whose system is an API (and on no
 * other), and match keys wherever Ferry creates records through the API, because a create whose
 * response was lost is found again by them, unless the API takes an idempotency key (then the create
 * is sent again with the same key).
 */
export function httpErrors(spec: DefaultedSyncFlowSpec): ValidationError[] {
  const errors: ValidationError[] = [];
  if (spec.source.http && spec.target.export) errors.push(error('spec.source.http', 'an export reads a database; an http source cannot feed one'));
  for (const side of ['source', 'target'] as const) {
    const endpoint = spec[side].http;
    if (endpoint) checkEndpoint(errors, endpoint, `spec.${side}.http`);
    spec.entities.forEach((entity, i) => {
      const at = (...segments: (string | number)[]) => fieldPath('spec', 'entities', i, side, ...segments);
      const resource = entity[side].resource;
      if (!endpoint) {
        if (resource) errors.push(error(at('resource'), `only used when spec.${side} is http`));
        return;
      }
      if (!resource) {
        errors.push(error(at('resource'), `required: spec.${side} is an http API, so this side names an API resource instead of a table`));
        return;
      }
      if (resource.profile && !endpoint.profile) errors.push(error(at('resource', 'profile'), `needs spec.${side}.http.profile`));
      if (!resource.profile && !resource.list) errors.push(error(at('resource', 'list'), 'required unless resource.profile names a described resource'));
      if (!resource.profile && entity[side].updatedAt === undefined && resource.incremental) {
        errors.push(error(at('resource', 'incremental'), 'needs updatedAt, the field the filter compares'));
      }
      const creates = side === 'target' ? entity.actions.includes('createInTarget') : entity.actions.includes('createInSource');
      const keysMapped = entity[side].keys.every((k) => entity.fields.some((f) => (side === 'target' ? f.target : f.source) === k));
      // Two-way, the API's side is read too: a record whose create answer was lost shows up there as a
      // new record before its intent is recovered, and only match fields pair it instead of copying it back.
      const twoWay = spec.direction === 'TwoWay';
      const idempotent = !twoWay && resource.create?.idempotencyKeyHeader !== undefined;
      if (creates && !keysMapped && !idempotent && (entity.match ?? []).length === 0) {
        const instead = twoWay ? ', also with resource.create.idempotencyKeyHeader in a two-way flow' : " (or name the API's idempotency-key header in resource.create.idempotencyKeyHeader)";
        errors.push(
          error(
            fieldPath('spec', 'entities', i, 'match'),
            `required: Ferry creates ${side} records through the API, and a create whose response is lost is found again by its match fields, so it is never created twice${instead}`,
          ),
        );
      }
    });
  }
  return errors;
}
