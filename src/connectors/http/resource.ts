import type { FieldType, HttpEndpoint, HttpResource, Pagination, ResourceField } from '../../api/http.js';
import { ConfigError } from '../../util/errors.js';
import { PROFILES, type HttpProfile } from './profiles.js';

export interface ResolvedField {
  name: string;
  pointer: string;
  type: FieldType;
  readOnly: boolean;
  createOnly: boolean;
  unsetValue?: string;
}

export type Params = [string, string][];

export interface ResolvedEndpoint {
  path: string;
  method: string;
  query: Params;
  /** Constant body members: JSON pointer, value ({random}: a fresh secret). */
  body: Params;
}

/** A resource with its profile merged in and every default applied: what reader and writer work from. */
export interface ResolvedResource {
  name: string;
  list: { path: string; query: Params; records: string; pagination: Pagination };
  incremental?: { query: Params; boundary: 'Inclusive' | 'Exclusive' };
  sort: Params;
  get?: ResolvedEndpoint;
  create?: ResolvedEndpoint & { idempotencyKeyHeader?: string };
  update?: ResolvedEndpoint;
  delete?: ResolvedEndpoint;
  archive?: ResolvedEndpoint;
  fields: Map<string, ResolvedField>;
}

const params = (list: { name: string; value: string }[] | undefined): Params => (list ?? []).map((p) => [p.name, p.value]);

function resolvedEndpoint(given: HttpResource['get'], method: string): ResolvedEndpoint | undefined {
  return given ? { path: given.path, method: given.method ?? method, query: params(given.query), body: params(given.body) } : undefined;
}

function fillName<T>(value: T, name: string): T {
  return JSON.parse(JSON.stringify(value).replace(/\{name\}/g, name)) as T;
}

function withProfileUnset(profile: HttpProfile, field: ResourceField): ResourceField {
  const defaults = profile.unsetDefaults;
  if (field.unsetValue !== undefined || !defaults || !field.pointer.startsWith(defaults.pointerPrefix)) return field;
  const unsetValue = defaults.byType[field.type ?? 'string'];
  return unsetValue === undefined ? field : { ...field, unsetValue };
}

/** The profile's resource under `profileName` merged with the user's block: the user's parts win, fields merge by name. */
function merged(endpoint: HttpEndpoint, resource: HttpResource, path: string): HttpResource {
  if (!resource.profile) return resource;
  const profile = endpoint.profile ? PROFILES[endpoint.profile] : undefined;
  if (!profile) throw new ConfigError(`${path}.profile: needs a profile on the http system`);
  const base = profile.resources[resource.profile] ?? (profile.resources['*'] ? fillName(profile.resources['*'], resource.profile) : undefined);
  if (!base) throw new ConfigError(`${path}.profile: the ${endpoint.profile} profile has no resource "${resource.profile}"`);
  const fields = new Map((base.fields ?? []).map((f) => [f.name, f]));
  for (const f of resource.fields ?? []) fields.set(f.name, withProfileUnset(profile, f));
  return { ...base, ...Object.fromEntries(Object.entries(resource).filter(([, v]) => v !== undefined)), fields: [...fields.values()] };
}

/** Resolves one entity side's resource; `path` is its field path (spec.entities[i].target.resource). */
export function resolveResource(endpoint: HttpEndpoint, resource: HttpResource, name: string, path: string): ResolvedResource {
  const r = merged(endpoint, resource, path);
  if (!r.list) throw new ConfigError(`${path}.list: required (no profile resource gives one)`);
  return {
    name,
    list: {
      path: r.list.path,
      query: params(r.list.query),
      records: r.list.records ?? '',
      pagination: r.list.pagination ?? { style: 'None' },
    },
    incremental: r.incremental ? { query: params(r.incremental.query), boundary: r.incremental.boundary ?? 'Inclusive' } : undefined,
    sort: params(r.sort),
    get: resolvedEndpoint(r.get, 'GET'),
    create: r.create ? { ...resolvedEndpoint(r.create, 'POST')!, ...(r.create.idempotencyKeyHeader ? { idempotencyKeyHeader: r.create.idempotencyKeyHeader } : {}) } : undefined,
    update: resolvedEndpoint(r.update, 'PUT'),
    delete: resolvedEndpoint(r.delete, 'DELETE'),
    archive: resolvedEndpoint(r.archive, 'PATCH'),
    fields: new Map(
      (r.fields ?? []).map((f) => [
        f.name,
        {
          name: f.name,
          pointer: f.pointer,
          type: f.type ?? 'string',
          readOnly: f.readOnly ?? false,
          createOnly: f.createOnly ?? false,
          ...(f.unsetValue !== undefined ? { unsetValue: f.unsetValue } : {}),
        },
      ]),
    ),
  };
}

/** A path template with `{key}` filled (URL-encoded). */
export function fillPath(template: string, key: string[]): string {
  return template.replace(/\{key\}/g, encodeURIComponent(key.join(',')));
}
