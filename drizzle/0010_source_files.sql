CREATE TABLE "ferry"."source_files" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ferry"."source_files_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"name" text NOT NULL,
	"sha256" text NOT NULL,
	"size" bigint NOT NULL,
	"modified_at" timestamp with time zone NOT NULL,
	"path" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"run_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"imported_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "source_files_content_idx" ON "ferry"."source_files" USING btree ("flow","entity","name","sha256");--> statement-breakpoint
CREATE INDEX "source_files_status_idx" ON "ferry"."source_files" USING btree ("flow","entity","status","id");