import { Type, type Static } from '@sinclair/typebox';
import { LocalObjectReferenceSchema, MapList, SecretKeyRefSchema, StringEnum } from './common.js';
import { DEFAULTS } from './defaults-values.js';

export const EXPORT_FORMATS = ['Csv', 'JsonLines'] as const;
export const COMPRESSIONS = ['None', 'Gzip', 'Zip'] as const;
export const EXPORT_MODES = ['Changes', 'Snapshot', 'Events'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type Compression = (typeof COMPRESSIONS)[number];
export type ExportMode = (typeof EXPORT_MODES)[number];

/** Placeholders a fileNameTemplate may use. */
export const FILE_NAME_PLACEHOLDERS = ['flow', 'entity', 'date', 'time', 'seq'] as const;

export const FileNameTemplate = (description: string) =>
  Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/\\\\]+$', description });

const KeyRef = (description: string) => Type.Object({ secretRef: SecretKeyRefSchema }, { description });

export const ExportSettingsSchema = Type.Object(
  {
    format: StringEnum(EXPORT_FORMATS, { description: 'File format.' }),
    csv: Type.Optional(
      Type.Object(
        {
          header: Type.Optional(Type.Boolean({ default: DEFAULTS.csvHeader, description: 'Write a header row.' })),
          delimiter: Type.Optional(
            Type.String({ minLength: 1, maxLength: 1, default: DEFAULTS.csvDelimiter, description: 'Field delimiter.' }),
          ),
          quote: Type.Optional(
            Type.String({ minLength: 1, maxLength: 1, default: DEFAULTS.csvQuote, description: 'Quote character.' }),
          ),
        },
        { description: 'CSV options.' },
      ),
    ),
    compression: Type.Optional(
      StringEnum(COMPRESSIONS, { default: DEFAULTS.compression, description: 'Compression; default Gzip.' }),
    ),
    encryption: Type.Optional(
      Type.Object(
        {
          recipients: Type.Array(KeyRef('OpenPGP public key of a recipient.'), { minItems: 1, maxItems: 20 }),
          signWith: Type.Optional(KeyRef('OpenPGP private key used to sign the file.')),
        },
        { description: 'OpenPGP encryption of the exported file.' },
      ),
    ),
    mode: StringEnum(EXPORT_MODES, {
      description: 'Changes since the last export, a full Snapshot, or every change Event.',
    }),
    query: Type.Optional(
      Type.String({ minLength: 1, maxLength: 65536, description: 'SQL query on the source, instead of entities.' }),
    ),
    changes: Type.Optional(
      Type.Object(
        {
          keys: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
            minItems: 1,
            maxItems: 8,
            description: 'Columns of the query that identify one exported row (e.g. the member id); each key appears at most once per run.',
          }),
          cursor: Type.String({
            minLength: 1,
            maxLength: 63,
            description:
              'Column of the query that moves forward whenever the row or its related rows change, e.g. greatest(m.updated_at, max(p.created_at)); rows after the last exported (cursor, keys) are exported.',
          }),
        },
        { description: 'Changes mode of a query (PostgreSQL sources): the key and cursor columns of the query, so a change in a joined row exports its root row once.' },
      ),
    ),
    split: Type.Optional(
      Type.Object(
        {
          maxRows: Type.Optional(Type.Integer({ minimum: 1, format: 'int64', description: 'Rows per file.' })),
          maxBytes: Type.Optional(Type.Integer({ minimum: 1024, format: 'int64', description: 'Bytes per file.' })),
        },
        { description: 'Split the export into several files.' },
      ),
    ),
    fileNameTemplate: Type.Optional(
      FileNameTemplate('File name; placeholders {flow} {entity} {date} {time} {seq}.'),
    ),
    timeZone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone for {date} and {time}.' })),
    targets: MapList(LocalObjectReferenceSchema, ['name'], {
      minItems: 1,
      maxItems: 20,
      description: 'ExportTargets the file is sent to.',
    }),
    archive: Type.Optional(
      Type.Object(
        {
          retentionDays: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 3650, description: 'Days a created file is kept for re-transfer.' }),
          ),
          directory: Type.Optional(Type.String({ maxLength: 1024, description: 'Archive directory.' })),
        },
        { description: 'Archive of created files.' },
      ),
    ),
  },
  { description: 'File export instead of a database target.' },
);
export type ExportSettings = Static<typeof ExportSettingsSchema>;
