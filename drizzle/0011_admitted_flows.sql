CREATE TABLE "ferry"."admitted_flows" (
	"sync_job_uid" text PRIMARY KEY NOT NULL,
	"flow" text NOT NULL,
	"generation" bigint NOT NULL,
	"spec" jsonb NOT NULL,
	"admitted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ran_generation" bigint
);
--> statement-breakpoint
CREATE INDEX "admitted_flows_admitted_at_idx" ON "ferry"."admitted_flows" USING btree ("admitted_at");