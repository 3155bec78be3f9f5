-- Conflicting field values of two-way pairs, for the data API (keys byte-ordered like ferry.pairs).
CREATE TABLE "ferry"."pair_conflict_fields" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"source_key" text COLLATE "C" NOT NULL,
	"field" text NOT NULL,
	"target_field" text NOT NULL,
	"position" integer NOT NULL,
	"source_value" text,
	"target_value" text,
	"source_changed_at" timestamp with time zone,
	"target_changed_at" timestamp with time zone,
	"sensitive" boolean DEFAULT false NOT NULL,
	"run_id" text NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pair_conflict_fields_flow_entity_source_key_field_pk" PRIMARY KEY("flow","entity","source_key","field")
);
