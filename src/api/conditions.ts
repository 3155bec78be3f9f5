import { Type, type Static } from '@sinclair/typebox';
import { MapList, StringEnum } from './common.js';

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

/** kstatus: Ready is always present; Reconciling and Stalled only while True. */
export const ConditionTypes = { Ready: 'Ready', Reconciling: 'Reconciling', Stalled: 'Stalled' } as const;

/** metav1.Condition, with the same validation as upstream. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      maxLength: 316,
      description: 'Type of condition in CamelCase, e.g. Ready.',
    }),
    status: StringEnum(CONDITION_STATUSES, { description: 'Status of the condition.' }),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, format: 'int64', description: 'metadata.generation the condition was set for.' }),
    ),
    lastTransitionTime: Type.String({ format: 'date-time', description: 'When the status last changed.' }),
    reason: Type.String({
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      minLength: 1,
      maxLength: 1024,
      description: 'Machine-readable CamelCase reason for the last transition.',
    }),
    message: Type.String({ maxLength: 32768, description: 'Human-readable details.' }),
  },
  { description: 'Condition in the metav1.Condition shape.' },
);
export type Condition = Static<typeof ConditionSchema>;

export const ConditionsSchema = () =>
  MapList(ConditionSchema, ['type'], { maxItems: 16, description: 'Current conditions of the resource.' });

/** What a caller supplies: lastTransitionTime is managed by setCondition. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function conditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * Returns a new list with `update` applied. lastTransitionTime only moves when the status
 * changes, so watchers can tell how long a condition has held.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    existing && existing.status === update.status
      ? existing.lastTransitionTime
      : (update.lastTransitionTime ?? conditionTime(now));
  const next: Condition = { ...update, lastTransitionTime };
  if (next.observedGeneration === undefined) delete next.observedGeneration;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
