-- The write transactions of an interrupted batch (PostgreSQL's transaction ids), so the recovery can
-- ask whether they committed: the target's of a one-way inflight marker, each side's of a two-way
-- redo entry. Null for entries written before and on systems that cannot tell.
ALTER TABLE "ferry"."inflight_batches" ADD COLUMN "target_transaction" text;--> statement-breakpoint
ALTER TABLE "ferry"."two_way_redo" ADD COLUMN "side_transactions" jsonb;
