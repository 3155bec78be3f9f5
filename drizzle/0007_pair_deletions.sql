CREATE TABLE "ferry"."pair_deletions" (
	"xid" bigint NOT NULL,
	"flow" text NOT NULL,
	"pair" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "pair_deletions_xid_idx" ON "ferry"."pair_deletions" USING btree ("xid");--> statement-breakpoint
CREATE INDEX "pair_deletions_at_idx" ON "ferry"."pair_deletions" USING btree ("at");--> statement-breakpoint
-- One statement trigger (not a row trigger): a batch delete of pairs costs one INSERT … SELECT.
CREATE FUNCTION "ferry"."record_pair_deletions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ferry.pair_deletions (xid, flow, pair)
    SELECT pg_current_xact_id()::text::bigint, o.flow,
           jsonb_build_object('flow', o.flow, 'entity', o.entity, 'source_key', o.source_key, 'target_key', o.target_key,
             'category', o.category, 'last_origin', o.last_origin, 'last_synced_at', o.last_synced_at,
             'source_gone_at', o.source_gone_at, 'target_gone_at', o.target_gone_at)
      FROM old_pairs o;
  DELETE FROM ferry.pair_deletions WHERE at < now() - interval '1 hour';
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "pairs_deleted" AFTER DELETE ON "ferry"."pairs" REFERENCING OLD TABLE AS old_pairs
  FOR EACH STATEMENT EXECUTE FUNCTION "ferry"."record_pair_deletions"();
