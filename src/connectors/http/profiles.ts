import type { HttpProfileName, HttpResource, ResourceField } from '../../api/http.js';

/**
 * Described APIs: each profile is plain data in the shape of `resource` blocks, so anything here a
 * user could have written in YAML. `*` is the template for any other resource name (WordPress: a
 * custom post type's rest_base), `{name}` in it the resource name.
 */
export interface HttpProfile {
  resources: Record<string, HttpResource>;
  /**
   * What the API returns for a value never set, by field type, for the fields a user adds under a
   * pointer prefix (WordPress: a registered meta key's type default). A field's own unsetValue wins.
   */
  unsetDefaults?: { pointerPrefix: string; byType: Partial<Record<NonNullable<ResourceField['type']>, string>> };
}

const WP_PAGES = {
  style: 'PageNumber',
  pageSize: 100,
  pageParam: 'page',
  sizeParam: 'per_page',
  totalPagesHeader: 'X-WP-TotalPages',
} as const;

const field = (name: string, pointer: string, type: ResourceField['type'] = 'string', readOnly = false, createOnly = false): ResourceField => ({
  name,
  pointer,
  type,
  ...(readOnly ? { readOnly } : {}),
  ...(createOnly ? { createOnly } : {}),
  // WordPress returns '' for text it never got.
  ...(type === 'string' && !readOnly ? { unsetValue: '' } : {}),
});

/** Posts, pages and custom post types share one shape; meta fields are added per site (pointer /meta/<key>). */
function postType(base: string): HttpResource {
  return {
    list: {
      path: `/wp/v2/${base}`,
      query: [
        { name: 'context', value: 'edit' },
        { name: 'status', value: 'any' },
      ],
      pagination: WP_PAGES,
    },
    // WordPress compares whole seconds and leaves the boundary out.
    incremental: { query: [{ name: 'modified_after', value: '{cursor}' }], boundary: 'Exclusive' },
    sort: [
      { name: 'orderby', value: 'id' },
      { name: 'order', value: 'asc' },
    ],
    get: { path: `/wp/v2/${base}/{key}`, query: [{ name: 'context', value: 'edit' }] },
    create: { path: `/wp/v2/${base}`, method: 'POST' },
    update: { path: `/wp/v2/${base}/{key}`, method: 'POST' },
    delete: { path: `/wp/v2/${base}/{key}`, query: [{ name: 'force', value: 'true' }] },
    archive: { path: `/wp/v2/${base}/{key}`, method: 'POST' },
    fields: [
      field('id', '/id', 'integer', true),
      field('date', '/date_gmt', 'timestamp'),
      field('modified', '/modified_gmt', 'timestamp', true),
      field('slug', '/slug'),
      field('status', '/status'),
      field('title', '/title/raw'),
      field('content', '/content/raw'),
      field('excerpt', '/excerpt/raw'),
      field('author', '/author', 'integer'),
      field('categories', '/categories', 'json'),
      field('link', '/link', 'string', true),
    ],
  };
}

export const WORDPRESS: HttpProfile = {
  unsetDefaults: { pointerPrefix: '/meta/', byType: { string: '', timestamp: '', date: '', integer: '0', number: '0', boolean: 'false' } },
  resources: {
    posts: postType('posts'),
    pages: postType('pages'),
    '*': postType('{name}'),
    users: {
      list: { path: '/wp/v2/users', query: [{ name: 'context', value: 'edit' }], pagination: WP_PAGES },
      sort: [
        { name: 'orderby', value: 'id' },
        { name: 'order', value: 'asc' },
      ],
      get: { path: '/wp/v2/users/{key}', query: [{ name: 'context', value: 'edit' }] },
      // New users get a random password: they set their own through WordPress's password reset.
      create: { path: '/wp/v2/users', method: 'POST', body: [{ name: '/password', value: '{random}' }] },
      update: { path: '/wp/v2/users/{key}', method: 'POST' },
      // WordPress refuses to delete a user without someone to hand their posts to.
      delete: { path: '/wp/v2/users/{key}', query: [{ name: 'force', value: 'true' }, { name: 'reassign', value: '1' }] },
      fields: [
        field('id', '/id', 'integer', true),
        field('username', '/username'),
        field('email', '/email'),
        field('name', '/name'),
        field('first_name', '/first_name'),
        field('last_name', '/last_name'),
        field('nickname', '/nickname'),
        field('description', '/description'),
        field('url', '/url'),
        field('roles', '/roles', 'json'),
        field('password', '/password', 'string', false, true),
        field('registered', '/registered_date', 'timestamp', true),
      ],
    },
    categories: {
      list: { path: '/wp/v2/categories', query: [{ name: 'context', value: 'edit' }, { name: 'hide_empty', value: 'false' }], pagination: WP_PAGES },
      sort: [
        { name: 'orderby', value: 'id' },
        { name: 'order', value: 'asc' },
      ],
      get: { path: '/wp/v2/categories/{key}', query: [{ name: 'context', value: 'edit' }] },
      create: { path: '/wp/v2/categories', method: 'POST' },
      update: { path: '/wp/v2/categories/{key}', method: 'POST' },
      delete: { path: '/wp/v2/categories/{key}', query: [{ name: 'force', value: 'true' }] },
      fields: [
        field('id', '/id', 'integer', true),
        field('name', '/name'),
        field('slug', '/slug'),
        field('description', '/description'),
        field('parent', '/parent', 'integer'),
        field('count', '/count', 'integer', true),
      ],
    },
  },
};

export const PROFILES: Record<HttpProfileName, HttpProfile> = { wordpress: WORDPRESS };
