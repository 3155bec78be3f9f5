import { Type, type Static } from '@sinclair/typebox';
import { Column, ObjectName, SECRET_KEY_PATTERN, SetList, StringEnum, celRules } from './common.js';

/**
 * The cursor of every entity on a files source: where a row stands in the files (file order, then
 * line), so Incremental runs read only files not imported yet and resume mid-file after a crash.
 */
export const FILE_POSITION_COLUMN = '_ferry_file_position';

export const FILE_CONTENTS = ['Snapshot', 'Delta'] as const;
export type FileContents = (typeof FILE_CONTENTS)[number];

export const FILE_FORMATS = ['Csv', 'JsonLines'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** `Auto` reads the file name: `.gz` is gzip, `.zip` a zip archive (its first file entry). */
export const FILE_COMPRESSIONS = ['Auto', 'None', 'Gzip', 'Zip'] as const;
export type FileCompression = (typeof FILE_COMPRESSIONS)[number];

export const FILE_ENCODINGS = ['UTF-8', 'UTF-8-BOM', 'Windows-1252', 'ISO-8859-1'] as const;
export type FileEncoding = (typeof FILE_ENCODINGS)[number];

export const FILE_ORDERS = ['Name', 'Modified'] as const;
export type FileOrder = (typeof FILE_ORDERS)[number];

export const COLUMN_TYPES = ['Text', 'Integer', 'Decimal', 'Boolean', 'Date', 'Timestamp'] as const;
export type FileColumnType = (typeof COLUMN_TYPES)[number];

export const AFTER_IMPORT = ['Leave', 'Move'] as const;
export type AfterImport = (typeof AFTER_IMPORT)[number];

/** Date and time formats: tokens YYYY, MM, DD, HH, mm, ss (and literal separators), e.g. `DD.MM.YYYY`. */
const DATE_FORMAT_PATTERN = '^[YMDHms.:/ T-]+$';
/** A delimiter or quote: a line break would end records inside them. */
const CSV_CHARACTER_PATTERN = '^[^\\r\\n]+$';
/** A file-name glob matches names in one directory listing: a "/" could never match. */
const FILE_NAME_GLOB_PATTERN = '^[^/\\x00]+$';
const RelativeDirectory = (description: string) => Type.String({ minLength: 1, maxLength: 512, pattern: '^[^/\\0][^\\0]*$', description });

const KeySecretRef = (description: string, defaultKey: string) =>
  Type.Object(
    {
      name: ObjectName('Secret name.'),
      key: Type.Optional(Type.String({ pattern: SECRET_KEY_PATTERN, maxLength: 253, description: `Key in the Secret; default "${defaultKey}".` })),
    },
    { description },
  );

export const FilesDecryptionSchema = Type.Object(
  {
    secretRef: KeySecretRef('Secret with the OpenPGP private key (key "privateKey") and, when the key is protected, its "passphrase".', 'privateKey'),
    verify: Type.Optional(
      Type.Object(
        {
          secretRef: KeySecretRef('Secret with the pinned OpenPGP public key of the sender (key "publicKey").', 'publicKey'),
          required: Type.Optional(
            Type.Boolean({ description: 'Refuse files that are not signed by the pinned key (unsigned, or signed by another or a broken signature); default true.' }),
          ),
        },
        { description: 'Signature verification against the sender’s pinned public key.' },
      ),
    ),
  },
  {
    description:
      'OpenPGP decryption. With it set, every file must be an OpenPGP message (binary or armored; its content decides, not its name), even with verify.required false: a plain or only compressed file is refused.',
  },
);
export type FilesDecryption = Static<typeof FilesDecryptionSchema>;

export const FilesEndpointSchema = Type.Object(
  {
    directory: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, pattern: '^/', description: 'A directory on a mounted volume (absolute path).' })),
    exportTargetRef: Type.Optional(
      Type.Object(
        { name: ObjectName('ExportTarget name, in the flow’s namespace.') },
        { description: 'An SFTP or FTPS server described by an ExportTarget: its host, pinned host key or CA bundle and credentials; files are read from its directory.' },
      ),
    ),
    volumeClaim: Type.Optional(
      Type.Object(
        { name: ObjectName('PersistentVolumeClaim name, in the flow’s namespace.') },
        {
          description:
            'With directory, in the cluster: the PersistentVolumeClaim the SyncJob’s pod mounts at that path (read-only unless files are moved after import or when they fail). Required for SyncJobs; ferry run reads the local directory.',
        },
      ),
    ),
    subdirectory: Type.Optional(RelativeDirectory('Directory below the ExportTarget’s directory (or below `directory`) to read.')),
    decryption: Type.Optional(FilesDecryptionSchema),
    afterImport: Type.Optional(
      StringEnum(AFTER_IMPORT, { description: 'Leave an imported file in place (it is remembered and never imported twice) or Move it to processedDirectory; default Leave.' }),
    ),
    processedDirectory: Type.Optional(RelativeDirectory('Where imported files go with afterImport Move; default "processed".')),
    failedDirectory: Type.Optional(
      RelativeDirectory('Where a file that cannot be imported (wrong key, bad signature, corrupt archive) is moved, with a NAME.reason.txt beside it; unset leaves it in place.'),
    ),
    settleSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 600, description: 'A file is taken once its size and modification time are the same in two looks this far apart; default 2.' }),
    ),
  },
  {
    description: 'Partner files as a source: a directory on a mounted volume, or an SFTP/FTPS server through an ExportTarget (exactly one).',
    ...celRules({ rule: '(has(self.directory) ? 1 : 0) + (has(self.exportTargetRef) ? 1 : 0) == 1', message: 'exactly one of directory or exportTargetRef must be set' }),
  },
);
export type FilesEndpoint = Static<typeof FilesEndpointSchema>;

export const FileColumnSchema = Type.Object(
  {
    name: Column('Column name, as entities name it (keys, fields, conditions).'),
    type: Type.Optional(StringEnum(COLUMN_TYPES, { description: 'How the value parses; a value that does not is rejected with its line. Default Text.' })),
    format: Type.Optional(
      Type.String({ maxLength: 40, pattern: DATE_FORMAT_PATTERN, description: 'For Date and Timestamp: overrides the file’s dateFormat / timestampFormat.' }),
    ),
  },
  { description: 'A column of the file and its type.' },
);
export type FileColumn = Static<typeof FileColumnSchema>;

export const FileCsvSchema = Type.Object(
  {
    delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1, pattern: CSV_CHARACTER_PATTERN, description: 'Field delimiter (one character, not a line break); default ",".' })),
    quote: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1, pattern: CSV_CHARACTER_PATTERN, description: 'Quote character (one character, not a line break, not the delimiter); default \'"\'.' }),
    ),
    header: Type.Optional(Type.Boolean({ description: 'The first line names the columns; default true. Without it, columns lists them in file order.' })),
    encoding: Type.Optional(StringEnum(FILE_ENCODINGS, { description: 'Character encoding; default UTF-8 (a byte order mark is skipped either way).' })),
    decimalSeparator: Type.Optional(StringEnum(['.', ','] as const, { description: 'Decimal separator of Decimal columns; default ".".' })),
    emptyIsNull: Type.Optional(
      Type.Boolean({ description: 'An unquoted empty field is NULL and a quoted one ("") an empty string; false reads both as empty strings. Default true.' }),
    ),
  },
  { description: 'CSV dialect.' },
);
export type FileCsv = Static<typeof FileCsvSchema>;

export const FileSourceSchema = Type.Object(
  {
    pattern: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: FILE_NAME_GLOB_PATTERN,
      description: 'File-name glob, e.g. "employees-*.csv.gz.pgp" (names only, no directories: files are listed in one directory).',
    }),
    contents: StringEnum(FILE_CONTENTS, {
      description:
        'Snapshot: each file holds every record; the newest file is the table, records absent from it are gone (detected by Full runs). Delta: each file holds changes, applied in file order; as the read-only side of a two-way flow, a record no new file names is unchanged, and Ferry keeps the records the files leave in its state database.',
    }),
    allowEmptySnapshot: Type.Optional(
      Type.Boolean({
        description:
          'Snapshot: accept a file with no records (or none that reads: every line rejected) as an empty table, whose Full run deletes or archives every record. Default false: such a file is refused as invalid (a partner’s export that failed), nothing from it applied.',
      }),
    ),
    orderBy: Type.Optional(
      StringEnum(FILE_ORDERS, { description: 'How files are ordered: by the part of the name orderCapture picks (or the whole name), or by modification time; default Name.' }),
    ),
    orderCapture: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'With orderBy Name: a regular expression whose first group is the date or sequence to order by (compared as a number when all digits), e.g. "-(\\\\d{8})\\\\.csv".',
      }),
    ),
    format: Type.Optional(StringEnum(FILE_FORMATS, { description: 'Csv (default) or JsonLines (one JSON object per line; nested values as JSON text).' })),
    compression: Type.Optional(StringEnum(FILE_COMPRESSIONS, { description: 'Default Auto: by the name (.gz, .zip) after any .pgp/.gpg/.asc.' })),
    csv: Type.Optional(FileCsvSchema),
    columns: Type.Optional(
      Type.Array(FileColumnSchema, { maxItems: 500, description: 'Columns and their types; required without a header row (in file order), otherwise types for the columns named.' }),
    ),
    dateFormat: Type.Optional(Type.String({ maxLength: 40, pattern: DATE_FORMAT_PATTERN, description: 'Format of Date columns; default YYYY-MM-DD.' })),
    timestampFormat: Type.Optional(
      Type.String({ maxLength: 40, pattern: DATE_FORMAT_PATTERN, description: 'Format of Timestamp columns (UTC); default ISO 8601 (offsets honoured).' }),
    ),
    deletedWhen: Type.Optional(
      Type.Object(
        {
          column: Column('Column that marks a deletion.'),
          values: SetList(Type.String({ maxLength: 256 }), { minItems: 1, maxItems: 20, description: 'Values that mean the record was deleted.' }),
        },
        { description: 'Delta files: rows whose column holds one of the values delete their record (archive or delete on the target as the entity’s actions say).' },
      ),
    ),
  },
  { description: 'On a files source: the files that hold this entity, and how to read them.' },
);
export type FileSource = Static<typeof FileSourceSchema>;
