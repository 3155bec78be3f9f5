CREATE SCHEMA IF NOT EXISTS "ferry";
--> statement-breakpoint
CREATE TABLE "ferry"."inflight_batches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ferry"."inflight_batches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"source_keys" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ferry"."pairs" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"source_key" text NOT NULL,
	"target_key" text NOT NULL,
	"source_hash" text,
	"target_hash" text,
	"source_cursor" text,
	"target_cursor" text,
	"last_origin" text DEFAULT 'source' NOT NULL,
	"last_synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	"category" text DEFAULT 'synchronised' NOT NULL,
	"source_gone_at" timestamp with time zone,
	CONSTRAINT "pairs_flow_entity_source_key_pk" PRIMARY KEY("flow","entity","source_key")
);
--> statement-breakpoint
CREATE TABLE "ferry"."rejected_rows" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ferry"."rejected_rows_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" text NOT NULL,
	"entity" text NOT NULL,
	"source_key" text,
	"reason" text NOT NULL,
	"detail" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ferry"."run_entities" (
	"run_id" text NOT NULL,
	"entity" text NOT NULL,
	"position" integer NOT NULL,
	"read" bigint DEFAULT 0 NOT NULL,
	"created" bigint DEFAULT 0 NOT NULL,
	"updated" bigint DEFAULT 0 NOT NULL,
	"unchanged" bigint DEFAULT 0 NOT NULL,
	"archived" bigint DEFAULT 0 NOT NULL,
	"deleted" bigint DEFAULT 0 NOT NULL,
	"rejected" bigint DEFAULT 0 NOT NULL,
	"duration_ms" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "run_entities_run_id_entity_pk" PRIMARY KEY("run_id","entity")
);
--> statement-breakpoint
CREATE TABLE "ferry"."run_locks" (
	"flow" text PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"holder" text NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ferry"."runs" (
	"id" text PRIMARY KEY NOT NULL,
	"flow" text NOT NULL,
	"mode" text NOT NULL,
	"scope" text,
	"record" text,
	"dry_run" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"requested_by" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"error" text,
	"watermarks_before" jsonb,
	"watermarks_after" jsonb,
	"report" jsonb
);
--> statement-breakpoint
CREATE TABLE "ferry"."watermarks" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"cursor" text NOT NULL,
	"key" jsonb NOT NULL,
	"run_id" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watermarks_flow_entity_pk" PRIMARY KEY("flow","entity")
);
--> statement-breakpoint
ALTER TABLE "ferry"."rejected_rows" ADD CONSTRAINT "rejected_rows_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "ferry"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ferry"."run_entities" ADD CONSTRAINT "run_entities_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "ferry"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "inflight_flow_idx" ON "ferry"."inflight_batches" USING btree ("flow");--> statement-breakpoint
CREATE INDEX "pairs_target_key_idx" ON "ferry"."pairs" USING btree ("flow","entity","target_key");--> statement-breakpoint
CREATE INDEX "rejected_rows_run_idx" ON "ferry"."rejected_rows" USING btree ("run_id","entity");--> statement-breakpoint
CREATE INDEX "runs_flow_started_idx" ON "ferry"."runs" USING btree ("flow","started_at");