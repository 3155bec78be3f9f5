-- Pair keys sort byte-wise so the pairs stream orders exactly like the engine's key encoding.
ALTER TABLE "ferry"."pairs" ALTER COLUMN "source_key" TYPE text COLLATE "C";
--> statement-breakpoint
ALTER TABLE "ferry"."pairs" ALTER COLUMN "target_key" TYPE text COLLATE "C";
