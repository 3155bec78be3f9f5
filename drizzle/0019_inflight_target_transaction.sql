-- The target transaction that writes an inflight batch's rows (PostgreSQL's transaction id), so the
-- recovery can ask the target whether it committed; null for markers written before and on targets
-- that cannot tell.
ALTER TABLE "ferry"."inflight_batches" ADD COLUMN "target_transaction" text;
