CREATE TABLE "ferry"."create_intents" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"side" text NOT NULL,
	"source_key" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"run_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "create_intents_flow_entity_side_source_key_pk" PRIMARY KEY("flow","entity","side","source_key")
);
