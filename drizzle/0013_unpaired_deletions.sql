CREATE TABLE "ferry"."unpaired_deletions" (
	"xid" bigint NOT NULL,
	"flow" text NOT NULL,
	"record" jsonb NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "unpaired_deletions_xid_idx" ON "ferry"."unpaired_deletions" USING btree ("xid");--> statement-breakpoint
CREATE INDEX "unpaired_deletions_at_idx" ON "ferry"."unpaired_deletions" USING btree ("at");--> statement-breakpoint
-- One statement trigger (as for ferry.pairs): a Full run's forgetUnseen costs one INSERT … SELECT.
CREATE FUNCTION "ferry"."record_unpaired_deletions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ferry.unpaired_deletions (xid, flow, record)
    SELECT pg_current_xact_id()::text::bigint, o.flow,
           jsonb_build_object('flow', o.flow, 'entity', o.entity, 'side', o.side, 'record_key', o.record_key,
             'reason', o.reason, 'in_scope', o.in_scope, 'run_id', o.run_id, 'seen_at', o.seen_at)
      FROM old_records o;
  DELETE FROM ferry.unpaired_deletions WHERE at < now() - interval '1 hour';
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "unpaired_records_deleted" AFTER DELETE ON "ferry"."unpaired_records" REFERENCING OLD TABLE AS old_records
  FOR EACH STATEMENT EXECUTE FUNCTION "ferry"."record_unpaired_deletions"();
