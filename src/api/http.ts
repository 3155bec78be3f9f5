import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { DEFAULTS } from './defaults-values.js';
import { MapList, ObjectName, SecretKeyRefSchema, SQL_IDENTIFIER_PATTERN, StringEnum, celRules } from './common.js';

/** A JSON pointer (RFC 6901): '' is the whole document, '/a/0/b' a nested member. */
export const JSON_POINTER_PATTERN = '^(/([^~/]|~[01])*)*$';
/** A path template below baseUrl: starts with '/', may hold `{key}` (and `{cursor}` in query values). */
export const PATH_TEMPLATE_PATTERN = '^/[^\\s]*$';

export const HTTP_PROFILES = ['wordpress'] as const;
export type HttpProfileName = (typeof HTTP_PROFILES)[number];

export const AUTH_TYPES = ['Basic', 'Bearer', 'ApiKey', 'OAuth2ClientCredentials'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** The Secret keys each auth type reads. */
export const AUTH_SECRET_KEYS: Record<AuthType, readonly string[]> = {
  Basic: ['username', 'password'],
  Bearer: ['token'],
  ApiKey: ['apiKey'],
  OAuth2ClientCredentials: ['clientId', 'clientSecret'],
};

export const PAGINATION_STYLES = ['None', 'PageNumber', 'OffsetLimit', 'Cursor', 'LinkHeader', 'NextUrl'] as const;
export type PaginationStyle = (typeof PAGINATION_STYLES)[number];

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'timestamp', 'date', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const Pointer = (description: string) => Type.String({ pattern: JSON_POINTER_PATTERN, maxLength: 512, description });
const PathTemplate = (description: string) => Type.String({ pattern: PATH_TEMPLATE_PATTERN, minLength: 1, maxLength: 1024, description });

const NameValue = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, description: 'Parameter or header name.' }),
    value: Type.String({ maxLength: 2048, description: 'Value; `{cursor}` in an incremental filter is the watermark.' }),
  },
  { description: 'A name and its value.' },
);
const NameValues = (description: string) => MapList(NameValue, ['name'], { maxItems: 50, description });

export const HttpAuthSchema = Type.Object(
  {
    type: StringEnum(AUTH_TYPES, {
      description:
        'Basic (Secret keys username, password), Bearer (token), ApiKey (apiKey), or OAuth2ClientCredentials (clientId, clientSecret; the token is fetched from tokenUrl and refreshed before it expires).',
    }),
    secretRef: Type.Object({ name: ObjectName('Secret holding the credentials.') }, { description: 'Secret with the keys the type reads.' }),
    apiKey: Type.Optional(
      Type.Object(
        {
          in: StringEnum(['Header', 'Query'] as const, { description: 'Where the key travels; query keys are masked in every log and report.' }),
          name: Type.String({ minLength: 1, maxLength: 256, description: 'Header or query parameter name.' }),
        },
        { description: 'For ApiKey: where to put the key.' },
      ),
    ),
    tokenUrl: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 2048, description: 'For OAuth2ClientCredentials: the token endpoint.' })),
    scopes: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 50, description: 'For OAuth2ClientCredentials: scopes requested.' })),
  },
  {
    description: 'How Ferry authenticates to the API; credentials come from a Secret, never inline.',
    ...celRules(
      { rule: "self.type != 'ApiKey' || has(self.apiKey)", message: 'apiKey is required when type is ApiKey' },
      { rule: "self.type != 'OAuth2ClientCredentials' || has(self.tokenUrl)", message: 'tokenUrl is required when type is OAuth2ClientCredentials' },
    ),
  },
);
export type HttpAuth = Static<typeof HttpAuthSchema>;

export const HttpEndpointSchema = Type.Object(
  {
    baseUrl: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'API root, e.g. https://www.example.org/wp-json.' }),
    profile: Type.Optional(StringEnum(HTTP_PROFILES, { description: 'A described API whose resources entities can name (resource.profile).' })),
    tls: Type.Optional(
      Type.Object(
        {
          caSecretRef: Type.Optional(SecretKeyRefSchema),
          insecureSkipVerify: Type.Optional(Type.Boolean({ description: 'Skip certificate verification; only for tests. Default false.' })),
        },
        { description: 'TLS: verification is on by default; a CA bundle (PEM) from a Secret adds trusted roots.' },
      ),
    ),
    auth: Type.Optional(HttpAuthSchema),
    headers: Type.Optional(NameValues('Headers sent with every request.')),
    timeouts: Type.Optional(
      Type.Object(
        {
          connectSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600, description: `Connect timeout; default ${DEFAULTS.httpConnectSeconds}.` })),
          requestSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: `Whole-request timeout, per attempt; default ${DEFAULTS.httpRequestSeconds}.` })),
        },
        { description: 'Timeouts per request.' },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'Requests in flight at once; default 4.' })),
          requestsPerSecond: Type.Optional(Type.Number({ minimum: 0.1, maximum: 10000, description: 'Request rate cap; default none.' })),
          retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, description: 'Retries of a failed request before giving up; default 5.' })),
        },
        { description: 'Concurrency, rate and retry budget.' },
      ),
    ),
  },
  { description: 'A JSON-over-HTTP API (REST).' },
);
export type HttpEndpoint = Static<typeof HttpEndpointSchema>;

export const ResourceFieldSchema = Type.Object(
  {
    name: Type.String({ pattern: SQL_IDENTIFIER_PATTERN, minLength: 1, maxLength: 63, description: 'The name keys, mappings, match and conditions use.' }),
    pointer: Pointer('Where the value is in a record (JSON pointer), e.g. /title/raw or /meta/starts_at.'),
    type: Type.Optional(StringEnum(FIELD_TYPES, { description: 'How the value is read and written; default string.' })),
    readOnly: Type.Optional(Type.Boolean({ description: 'Never sent in a create or update body (e.g. the id); default false.' })),
    unsetValue: Type.Optional(
      Type.String({
        maxLength: 256,
        description: "What the API returns for a value that was never set, read as null (WordPress: '' for text and meta strings, 0 for numeric meta).",
      }),
    ),
    createOnly: Type.Optional(
      Type.Boolean({ description: 'Sent only when a record is created and never read back (e.g. an initial password); not compared. Default false.' }),
    ),
  },
  { description: 'A field of the API records, named for the mappings.' },
);
export type ResourceField = Static<typeof ResourceFieldSchema>;

const Endpoint = <Extra extends TProperties = {}>(methods: readonly string[], description: string, extra?: Extra) =>
  Type.Object(
    {
      path: PathTemplate('Path template; {key} is the record key.'),
      method: Type.Optional(StringEnum(methods, { description: `HTTP method; default ${methods[0]}.` })),
      query: Type.Optional(NameValues('Query parameters, e.g. force=true.')),
      body: Type.Optional(
        NameValues('Constant body members (name: a JSON pointer) added to every request of this endpoint; {random} is a fresh random secret, e.g. /password={random} for new users.'),
      ),
      ...(extra ?? ({} as Extra)),
    },
    { description },
  );

export const PaginationSchema = Type.Object(
  {
    style: StringEnum(PAGINATION_STYLES, {
      description:
        'PageNumber (stop on an empty page or after totalPagesHeader pages), OffsetLimit, Cursor (token at cursorPointer sent as cursorParam), LinkHeader (RFC 8288 rel="next"), NextUrl (at nextPointer), or None.',
    }),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'Records per request; default 100.' })),
    pageParam: Type.Optional(Type.String({ maxLength: 128, description: 'PageNumber: page parameter; default page.' })),
    firstPage: Type.Optional(Type.Integer({ minimum: 0, maximum: 1, description: 'PageNumber: number of the first page; default 1.' })),
    sizeParam: Type.Optional(Type.String({ maxLength: 128, description: 'Page size parameter; default per_page (limit for OffsetLimit).' })),
    totalPagesHeader: Type.Optional(Type.String({ maxLength: 128, description: 'PageNumber: response header with the number of pages, e.g. X-WP-TotalPages.' })),
    offsetParam: Type.Optional(Type.String({ maxLength: 128, description: 'OffsetLimit: offset parameter; default offset.' })),
    cursorParam: Type.Optional(Type.String({ maxLength: 128, description: 'Cursor: parameter the token is sent in; default cursor.' })),
    cursorPointer: Type.Optional(Pointer('Cursor: where the next token is in the body.')),
    nextPointer: Type.Optional(Pointer('NextUrl: where the next page URL is in the body.')),
  },
  { description: 'How a list is paged.' },
);
export type Pagination = Static<typeof PaginationSchema>;

export const HttpResourceSchema = Type.Object(
  {
    profile: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_-]*$',
        maxLength: 63,
        description: "A resource of the system's profile (wordpress: posts, pages, users, categories, or a custom post type's rest_base); the fields below add to or override it.",
      }),
    ),
    list: Type.Optional(
      Type.Object(
        {
          path: PathTemplate('Path of the collection.'),
          query: Type.Optional(NameValues('Query parameters of every list request.')),
          records: Type.Optional(Pointer("Where the records array is in the body; default '' (the body is the array).")),
          pagination: Type.Optional(PaginationSchema),
        },
        { description: 'How the records are listed.' },
      ),
    ),
    incremental: Type.Optional(
      Type.Object(
        {
          query: NameValues('Filter parameters; {cursor} is replaced by the watermark, e.g. modified_after={cursor}.'),
          boundary: Type.Optional(
            StringEnum(['Inclusive', 'Exclusive'] as const, { description: 'Whether the server keeps records at the cursor itself; default Inclusive.' }),
          ),
        },
        { description: 'Server-side filter of an Incremental read; without it Incremental lists everything and filters in Ferry (the report says so).' },
      ),
    ),
    sort: Type.Optional(NameValues('Sort parameters added to list requests, e.g. orderby=id.')),
    get: Type.Optional(Endpoint(['GET'], 'Read one record by key (Record mode, recovery).')),
    create: Type.Optional(
      Endpoint(['POST', 'PUT'], 'Create a record; the new key is read from the response.', {
        idempotencyKeyHeader: Type.Optional(
          Type.String({
            pattern: '^[A-Za-z0-9-]+$',
            maxLength: 128,
            description:
              "A request header the API reads an idempotency key from (e.g. Idempotency-Key): every create carries a key Ferry records before it sends the create, and a create whose answer was lost is sent again with the same key, so the API hands back the record it made instead of making a second. With it a one-way flow's entity needs no match fields to create through the API (without it a lost create is found again by them; a two-way flow needs them either way, since it reads the API's records as well). Only for APIs that honour such a header; WordPress does not.",
          }),
        ),
      }),
    ),
    update: Type.Optional(Endpoint(['PUT', 'PATCH', 'POST'], 'Update a record.')),
    delete: Type.Optional(Endpoint(['DELETE'], 'Delete a record.')),
    archive: Type.Optional(Endpoint(['PATCH', 'PUT', 'POST'], 'Archive a record: the side archive field and value are sent.')),
    fields: Type.Optional(MapList(ResourceFieldSchema, ['name'], { maxItems: 500, description: 'Fields of the records by name.' })),
  },
  { description: 'An API collection, used instead of a table when the system is http.' },
);
export type HttpResource = Static<typeof HttpResourceSchema>;
