-- ferry.pairs without flow and entity: a pair belongs to its flow entity through its scope
-- (ferry.pair_scopes, migration 0018), so every new pair stops carrying two texts that no index
-- reads (~1 s of the state server's CPU per 1M pairs loaded). What read them goes through the scopes:
-- the namespace policy (made again by store/tenant-isolation.ts: a namespace sees and writes only
-- pairs under its own flows' scopes), the deletions trigger, the data API (store/pair-reads.ts).
-- Dropping a column is a catalog change: pairs written before keep their bytes until rewritten.
DROP POLICY IF EXISTS "ferry_namespace" ON "ferry"."pairs";--> statement-breakpoint
CREATE OR REPLACE FUNCTION "ferry"."record_pair_deletions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ferry.pair_deletions (xid, flow, pair)
    SELECT pg_current_xact_id()::text::bigint, s.flow,
           jsonb_build_object('flow', s.flow, 'entity', s.entity, 'source_key', o.source_key, 'target_key', o.target_key,
             'category', o.category, 'last_origin', o.last_origin, 'last_synced_at', o.last_synced_at,
             'source_gone_at', o.source_gone_at, 'target_gone_at', o.target_gone_at)
      FROM old_pairs o JOIN ferry.pair_scopes s ON s.id = o.scope;
  DELETE FROM ferry.pair_deletions WHERE at < now() - interval '1 hour';
  RETURN NULL;
END $$;
--> statement-breakpoint
ALTER TABLE "ferry"."pairs" DROP COLUMN "flow";--> statement-breakpoint
ALTER TABLE "ferry"."pairs" DROP COLUMN "entity";
