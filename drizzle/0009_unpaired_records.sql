CREATE TABLE "ferry"."unpaired_records" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"side" text NOT NULL,
	"record_key" text NOT NULL,
	"match_values" text[] NOT NULL,
	"match_tokens" text[] NOT NULL,
	"reason" text NOT NULL,
	"in_scope" boolean NOT NULL,
	"run_id" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "unpaired_records_flow_entity_side_record_key_pk" PRIMARY KEY("flow","entity","side","record_key")
);
--> statement-breakpoint
CREATE INDEX "unpaired_records_tokens_idx" ON "ferry"."unpaired_records" USING gin ("match_tokens");--> statement-breakpoint
CREATE INDEX "unpaired_records_run_idx" ON "ferry"."unpaired_records" USING btree ("flow","entity","side","run_id");