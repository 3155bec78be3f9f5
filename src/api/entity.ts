import { Type, type Static } from '@sinclair/typebox';
import { Column, MapList, Name, SetList, StringEnum, Table } from './common.js';
import { DEFAULTS } from './defaults-values.js';
import { FileSourceSchema } from './files.js';
import { HttpResourceSchema } from './http.js';

export const ACTIONS = [
  'link',
  'createInSource',
  'createInTarget',
  'updateNewerWins',
  'updateSource',
  'updateTarget',
  'archiveInSource',
  'deleteInSource',
  'archiveInTarget',
  'deleteInTarget',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that write to the source system; a OneWay flow never does. */
export const SOURCE_WRITING_ACTIONS: readonly Action[] = [
  'createInSource',
  'updateNewerWins',
  'updateSource',
  'archiveInSource',
  'deleteInSource',
];

export const CONFLICT_POLICIES = ['NewerWins', 'SourceWins', 'TargetWins', 'Manual'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export const CONDITION_OPERATORS = ['In', 'NotIn', 'IsNull', 'NotNull', 'Contains'] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export const NORMALIZATIONS = ['None', 'Lower', 'Trim', 'LowerTrim'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

export const TRANSFORMS = ['None', 'Trim', 'Lower', 'Upper'] as const;
export type Transform = (typeof TRANSFORMS)[number];

export const SideConditionSchema = Type.Object(
  {
    field: Column('Column the condition tests.'),
    operator: Type.Optional(
      StringEnum(CONDITION_OPERATORS, { default: DEFAULTS.conditionOperator, description: 'Comparison; default In.' }),
    ),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 1024 }), {
        maxItems: 500,
        description: 'Accepted (In, Contains) or rejected (NotIn) values; a row matches when any value matches.',
      }),
    ),
    separator: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 8,
        description:
          'Contains on delimited text: the separator between the items (each item is trimmed), e.g. ",". Without it the column holds a list itself: a PostgreSQL array or a JSON array.',
      }),
    ),
  },
  { description: 'Row filter. Conditions are ANDed; the values of one condition are ORed.' },
);
export type SideCondition = Static<typeof SideConditionSchema>;

export const SideArchiveSchema = Type.Object(
  {
    column: Column('Column set when a record is archived.'),
    value: Type.Optional(
      Type.String({ maxLength: 256, default: DEFAULTS.archiveValue, description: 'Value written; default "true".' }),
    ),
    restoreValue: Type.Optional(
      Type.String({
        maxLength: 256,
        description:
          'Value written when an archived record comes back, e.g. "publish" for an API status archived as "draft". Default: the column\'s default on a database, false for a boolean API field; other API fields keep the archive value until the record is next updated.',
      }),
    ),
  },
  { description: 'How a record is archived on this side.' },
);
export type SideArchive = Static<typeof SideArchiveSchema>;

export const SideSchema = Type.Object(
  {
    table: Table('Table, optionally schema-qualified.'),
    // Ordered (not a set): composite keys are encoded in this order.
    keys: Type.Array(Column('Key column.'), { minItems: 1, maxItems: 8, description: 'Primary key columns, in order.' }),
    updatedAt: Type.Optional(
      Column('Timestamp column used as the change cursor; required on the source for Incremental syncs.'),
    ),
    conditions: Type.Optional(Type.Array(SideConditionSchema, { maxItems: 20, description: 'Rows taken into account.' })),
    archive: Type.Optional(SideArchiveSchema),
    resource: Type.Optional(HttpResourceSchema),
    file: Type.Optional(FileSourceSchema),
  },
  {
    description:
      'One side of an entity: a table, on an http system an API resource, or on a files source the files that hold it (table then names it, and keys, fields and conditions name the resource fields or file columns).',
  },
);
export type Side = Static<typeof SideSchema>;

export const MatchPairSchema = Type.Object(
  {
    source: Column('Source column.'),
    target: Column('Target column.'),
    normalize: Type.Optional(StringEnum(NORMALIZATIONS, { description: 'Normalisation before comparing; default None.' })),
  },
  { description: 'Column pair compared when linking records that exist on both sides.' },
);
export type MatchPair = Static<typeof MatchPairSchema>;

export const UNMAPPED_VALUES = ['Keep', 'Null', 'Reject'] as const;
export type UnmappedValue = (typeof UNMAPPED_VALUES)[number];

export const ValueMapEntrySchema = Type.Object(
  {
    source: Type.String({ maxLength: 1024, description: 'Value on the source side.' }),
    target: Type.String({ maxLength: 1024, description: 'Value on the target side.' }),
    reverse: Type.Optional(
      Type.Boolean({
        description:
          'TwoWay: whether this entry maps the target value back to this source value (default true). When several source values map to one target value, exactly one of them maps back; mark the others reverse: false.',
      }),
    ),
  },
  { description: 'One source value and the target value it stands for.' },
);
export type ValueMapEntry = Static<typeof ValueMapEntrySchema>;

export const ValueMapSchema = Type.Object(
  {
    entries: Type.Array(ValueMapEntrySchema, { minItems: 1, maxItems: 500, description: 'Source value <-> target value, applied after the transform.' }),
    unmapped: Type.Optional(
      StringEnum(UNMAPPED_VALUES, {
        description: 'A value the map does not list: Keep it as it is (default), write Null, or Reject the row with a reason naming the value.',
      }),
    ),
  },
  {
    description:
      'Translates values between the systems (e.g. Member <-> "150: Members"), in both directions for TwoWay flows. Hashes and loop protection compare the mapped values, so a mapped value never travels back and forth.',
  },
);
export type ValueMap = Static<typeof ValueMapSchema>;

export const FieldMappingSchema = Type.Object(
  {
    source: Column('Source column.'),
    target: Column('Target column.'),
    lookup: Type.Optional(
      Name('Entity whose source key this value is; it is translated to the linked target key. Must be listed in requires.'),
    ),
    transform: Type.Optional(StringEnum(TRANSFORMS, { description: 'Transformation applied to the value; default None.' })),
    valueMap: Type.Optional(ValueMapSchema),
    conflictPolicy: Type.Optional(
      StringEnum(CONFLICT_POLICIES, { description: 'Per-field conflict policy override (with a files source: SourceWins or Manual).' }),
    ),
    sensitive: Type.Optional(
      Type.Boolean({
        description: "The field's values are masked in the data API (pairs, conflicts) unless the user may get pairs/unmasked; default false.",
      }),
    ),
  },
  { description: 'Maps a source column to a target column.' },
);
export type FieldMapping = Static<typeof FieldMappingSchema>;

export const RelatedSchema = Type.Object(
  {
    entity: Name('Child entity travelling with a record of this entity.'),
    includeRelated: Type.Optional(Type.Boolean({ description: "Also bring the child's own related entities; default true." })),
    via: Type.Optional(
      Column("Child source column holding this record's source key; default: the child's only field with a lookup to this entity."),
    ),
    includeReferenced: Type.Optional(
      SetList(Column('Child source column with a lookup.'), {
        maxItems: 8,
        description:
          'Lookup columns of the child whose referenced records travel with their own related items (one level deep), e.g. the other event of a related-events link.',
      }),
    ),
  },
  { description: 'Child collection synced together with a record.' },
);
export type Related = Static<typeof RelatedSchema>;

export const EntitySchema = Type.Object(
  {
    name: Name('Entity name, unique in the flow.'),
    source: SideSchema,
    target: SideSchema,
    match: Type.Optional(
      Type.Array(MatchPairSchema, { maxItems: 8, description: 'Link records when all pairs match (AND).' }),
    ),
    fields: Type.Array(FieldMappingSchema, { minItems: 1, maxItems: 500, description: 'Field mappings.' }),
    requires: Type.Optional(
      SetList(Name('Entity name.'), { maxItems: 50, description: 'Entities that must sync before this one.' }),
    ),
    related: Type.Optional(
      MapList(RelatedSchema, ['entity'], { maxItems: 50, description: 'Child collections travelling with a record.' }),
    ),
    actions: Type.Optional(
      SetList(StringEnum(ACTIONS), {
        maxItems: ACTIONS.length,
        description:
          'Enabled actions. Default OneWay: link, createInTarget, updateTarget; TwoWay: link, createInTarget, createInSource, updateNewerWins. A files source is never written: its entities default to the OneWay actions, and actions that write to the source are refused.',
      }),
    ),
    conflictPolicy: Type.Optional(
      StringEnum(CONFLICT_POLICIES, {
        description:
          'What happens when both sides changed. Default SourceWins (OneWay, or a files source) or NewerWins (TwoWay). With a files source only SourceWins or Manual: the others may write the target value into the files.',
      }),
    ),
  },
  { description: 'One kind of record synced between a source and a target table.' },
);
export type Entity = Static<typeof EntitySchema>;
