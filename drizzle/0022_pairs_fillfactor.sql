-- Room on each page of ferry.pairs for the new version of its pairs: a pair updated by a run (a
-- changed record's new hashes, cursor and time; none of its indexed columns) then stays on its page as
-- a heap-only tuple, with no entry in the primary key or the target-key index. At 100% (the default)
-- every such update moved the pair to another page and inserted into both indexes: 5,000 random
-- updates of a 1M-pair scope took 0.65 s of the state backend's CPU, at 90% 0.46 s, for a table 10%
-- larger. Pages written before keep their fill until rewritten (VACUUM FULL, CLUSTER).
ALTER TABLE "ferry"."pairs" SET (fillfactor = 90);
