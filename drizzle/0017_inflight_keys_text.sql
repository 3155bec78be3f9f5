-- An inflight marker's source keys as JSON text stored uncompressed: PostgreSQL neither parses nor
-- compresses the 5000 keys of each batch of a first import (markers written before stay readable: jsonb's text is JSON).
ALTER TABLE "ferry"."inflight_batches" ALTER COLUMN "source_keys" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "ferry"."inflight_batches" ALTER COLUMN "source_keys" SET STORAGE EXTERNAL;
