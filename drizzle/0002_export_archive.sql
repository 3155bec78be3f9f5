CREATE TABLE "ferry"."export_file_chunks" (
	"file_id" text NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "export_file_chunks_file_id_seq_pk" PRIMARY KEY("file_id","seq")
);
--> statement-breakpoint
CREATE TABLE "ferry"."export_files" (
	"id" text PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"part" integer NOT NULL,
	"name" text NOT NULL,
	"rows" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"location" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"purged_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ferry"."export_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"flow" text NOT NULL,
	"mode" text NOT NULL,
	"source_run_id" text,
	"creation_status" text NOT NULL,
	"transfer_status" text NOT NULL,
	"files" integer DEFAULT 0 NOT NULL,
	"rows" bigint DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ferry"."export_transfers" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ferry"."export_transfers_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" text NOT NULL,
	"file_id" text NOT NULL,
	"target" text NOT NULL,
	"status" text NOT NULL,
	"remote_path" text,
	"bytes" bigint,
	"duration_ms" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"reason" text,
	"message" text,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "ferry"."export_file_chunks" ADD CONSTRAINT "export_file_chunks_file_id_export_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "ferry"."export_files"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ferry"."export_runs" ADD CONSTRAINT "export_runs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "ferry"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ferry"."export_transfers" ADD CONSTRAINT "export_transfers_file_id_export_files_id_fk" FOREIGN KEY ("file_id") REFERENCES "ferry"."export_files"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "export_files_run_idx" ON "ferry"."export_files" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "export_files_expiry_idx" ON "ferry"."export_files" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "export_runs_flow_idx" ON "ferry"."export_runs" USING btree ("flow","created_at");--> statement-breakpoint
CREATE INDEX "export_transfers_run_idx" ON "ferry"."export_transfers" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "export_transfers_file_idx" ON "ferry"."export_transfers" USING btree ("file_id");