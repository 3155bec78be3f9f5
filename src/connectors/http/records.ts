import { applyValueMap, type ConditionClause, type Row, type TransformName } from '../../engine/connector.js';
import { conditionHolds } from '../../engine/conditions.js';
import type { EntityPlan, FieldPlan } from '../../engine/plan.js';
import { ConfigError } from '../../util/errors.js';
import { getPointer } from './json-pointer.js';
import type { ResolvedField, ResolvedResource } from './resource.js';
import { hashValues, storedText, toText, ValueError } from './values.js';

export function fieldOf(resource: ResolvedResource, name: string): ResolvedField {
  const field = resource.fields.get(name);
  if (!field) throw new ConfigError(`resource "${resource.name}" has no field "${name}" (declare it in resource.fields with its JSON pointer)`);
  return field;
}

/** A field of a record as text. */
export function readField(record: unknown, field: ResolvedField): string | null {
  if (field.createOnly) return null;
  const text = toText(getPointer(record, field.pointer), field.type);
  return text !== null && text === field.unsetValue ? null : text;
}

export function applyTransform(value: string | null, transform: TransformName): string | null {
  if (value === null) return null;
  switch (transform) {
    case 'Trim':
      return value.trim();
    case 'Lower':
      return value.toLowerCase();
    case 'Upper':
      return value.toUpperCase();
    default:
      return value;
  }
}

/** The conditions as the engine defines them: AND across clauses, OR across one clause's values. */
export function inScope(values: (name: string) => string | null, conditions: ConditionClause[]): boolean {
  return conditions.every((c) => conditionHolds(c, values(c.field)));
}

/** Reads records of a source plan into `SOURCE_LAYOUT` rows. */
export class SourceRows {
  private readonly keys: ResolvedField[];
  private readonly cursor?: ResolvedField;
  private readonly values: { field: ResolvedField; plan: FieldPlan }[];
  private readonly match: ResolvedField[];

  constructor(
    private readonly plan: EntityPlan,
    private readonly resource: ResolvedResource,
  ) {
    this.keys = plan.source.keys.map((k) => fieldOf(resource, k));
    this.cursor = plan.source.updatedAt ? fieldOf(resource, plan.source.updatedAt) : undefined;
    this.values = [...plan.keyFields, ...plan.fields].map((f) => ({ field: fieldOf(resource, f.source), plan: f }));
    this.match = plan.match.map((m) => fieldOf(resource, m.source));
  }

  key(record: unknown): string[] {
    return this.keys.map((f) => readField(record, f) ?? '');
  }

  cursorOf(record: unknown): string | null {
    return this.cursor ? readField(record, this.cursor) : null;
  }

  row(record: unknown, withValues: boolean): Row {
    const values = this.values.map(({ field, plan }) => applyValueMap(applyTransform(readField(record, field), plan.transform), plan.valueMap));
    const scope = inScope((name) => readField(record, fieldOf(this.resource, name)), this.plan.source.conditions);
    const head: Row = [...this.key(record), this.cursorOf(record), hashValues(values), scope ? 't' : 'f'];
    return withValues ? [...head, ...values, ...this.match.map((f) => readField(record, f))] : head;
  }
}

/** The writer's view of a target plan: which fields a body carries and how a record hashes. */
export class TargetRows {
  readonly keys: ResolvedField[];
  readonly fields: ResolvedField[];

  constructor(plan: EntityPlan, resource: ResolvedResource) {
    this.keys = plan.target.keys.map((k) => fieldOf(resource, k));
    this.fields = plan.fields.map((f) => fieldOf(resource, f.target));
  }

  key(record: unknown): string[] {
    return this.keys.map((f) => readField(record, f) ?? '');
  }

  /** The hash of a record as the API returned it. */
  hash(record: unknown): string {
    return hashValues(this.fields.map((f) => readField(record, f)));
  }

  /** The hash the record will have once the API stored these values; throws ValueError naming the field. */
  expectedHash(values: (string | null)[]): string {
    return hashValues(
      this.fields.map((f, i) => {
        if (f.createOnly) return null;
        const text = checked(f, () => storedText(values[i], f.type));
        return text !== null && text === f.unsetValue ? null : text;
      }),
    );
  }
}

/** Runs a conversion and names the field when the value does not fit it. */
export function checked<T>(field: ResolvedField, convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    if (error instanceof ValueError) throw new ValueError(`field ${field.name}: ${error.message}`);
    throw error;
  }
}
