-- Gone pairs (source_gone_at set) in an index of their own, partial: a Full run's deletions
-- (store/pairs.ts streamGone) read them in key order without a scan of every pair (~0.2 s per
-- 1M pairs), and the pairs written as synchronised, nearly all of them, get no entry.
CREATE INDEX "pairs_gone_idx" ON "ferry"."pairs" USING btree ("scope","source_key") WHERE source_gone_at IS NOT NULL;
