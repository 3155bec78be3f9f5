CREATE TABLE "ferry"."two_way_redo" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ferry"."two_way_redo_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"run_id" text NOT NULL,
	"items" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ferry"."pairs" ADD COLUMN "target_gone_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "two_way_redo_flow_idx" ON "ferry"."two_way_redo" USING btree ("flow");