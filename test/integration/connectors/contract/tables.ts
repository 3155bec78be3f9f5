import type { Entity } from '../../../../src/api/entity.js';
import type { SqlKind } from './setup.js';

/**
 * The contract tables in each kind's own types: a source and a target with text keys, a target with
 * generated keys, and a `touches` log filled by triggers, which sees every write a statement makes
 * to a row (an UPDATE to the same values included), so a case can prove a row was left alone.
 * MariaDB keys use a NO PAD binary collation: the only one where case, accents and trailing spaces
 * all make distinct keys.
 */
export const CONTRACT_DDL: Record<SqlKind, string> = {
  postgres: `
    CREATE TABLE src_items (code text PRIMARY KEY, name text, amount integer, status text, updated_at timestamptz NOT NULL);
    CREATE TABLE dst_items (code text PRIMARY KEY, name varchar(10), amount integer, status text, archived boolean NOT NULL DEFAULT false);
    CREATE TABLE dst_auto (id bigserial PRIMARY KEY, name varchar(10), amount integer, status text);
    CREATE TABLE touches (code text NOT NULL, op text NOT NULL);
    CREATE FUNCTION touched() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO touches VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.code ELSE NEW.code END, TG_OP);
        RETURN NULL;
      END $$;
    CREATE TRIGGER dst_items_touched AFTER INSERT OR UPDATE OR DELETE ON dst_items FOR EACH ROW EXECUTE FUNCTION touched();`,
  mysql: `
    CREATE TABLE src_items (code varchar(40) COLLATE utf8mb4_nopad_bin PRIMARY KEY, name varchar(100), amount int, status varchar(20),
      updated_at datetime(6) NOT NULL, INDEX (updated_at, code));
    CREATE TABLE src_ci (code varchar(40) PRIMARY KEY, name varchar(100), amount int, status varchar(20), updated_at datetime(6) NOT NULL)
      DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci;
    CREATE TABLE dst_items (code varchar(40) COLLATE utf8mb4_nopad_bin PRIMARY KEY, name varchar(10), amount int, status varchar(20),
      archived tinyint(1) NOT NULL DEFAULT 0);
    CREATE TABLE dst_auto (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(10), amount int, status varchar(20)) AUTO_INCREMENT = 700;
    CREATE TABLE touches (code varchar(40) NOT NULL, op varchar(10) NOT NULL);
    CREATE TRIGGER dst_items_ins AFTER INSERT ON dst_items FOR EACH ROW INSERT INTO touches VALUES (NEW.code, 'INSERT');
    CREATE TRIGGER dst_items_upd AFTER UPDATE ON dst_items FOR EACH ROW INSERT INTO touches VALUES (NEW.code, 'UPDATE');
    CREATE TRIGGER dst_items_del AFTER DELETE ON dst_items FOR EACH ROW INSERT INTO touches VALUES (OLD.code, 'DELETE');`,
};

/** Keys that differ only by case, accents, trailing or leading spaces, digits as text, quotes and backslashes. */
export const TRICKY_KEYS = ['Apple', 'apple', 'apple ', 'Äpfel', 'äpfel', 'Zebra', 'zebra', 'éclair', 'eclair', 'B ', 'b', '10', '9', ' lead', 'a\\b', "o'neil", 'ß', 'ss'];

/** Keys a case- and accent-insensitive collation (MariaDB's default) holds as distinct. */
export const CI_KEYS = ['Apple', 'banana', 'Cherry', 'éclair', 'Zoë', 'zebra2', '10', '9', 'Ängel', 'angle'];

export const ITEM_FIELDS = ['name', 'amount', 'status'];

export function itemsEntity(source = 'src_items', extra: Partial<Entity> = {}): Entity {
  return {
    name: 'items',
    source: { table: source, keys: ['code'], updatedAt: 'updated_at' },
    target: { table: 'dst_items', keys: ['code'], archive: { column: 'archived' } },
    fields: [{ source: 'code', target: 'code' }, ...ITEM_FIELDS.map((c) => ({ source: c, target: c }))],
    ...extra,
  } as Entity;
}

export function autoEntity(): Entity {
  return {
    name: 'auto',
    source: { table: 'src_items', keys: ['code'], updatedAt: 'updated_at' },
    target: { table: 'dst_auto', keys: ['id'] },
    fields: ITEM_FIELDS.map((c) => ({ source: c, target: c })),
  } as Entity;
}
