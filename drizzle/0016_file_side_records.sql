CREATE TABLE "ferry"."file_side_records" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"key" text NOT NULL,
	"position" text NOT NULL,
	"row" jsonb,
	CONSTRAINT "file_side_records_flow_entity_key_pk" PRIMARY KEY("flow","entity","key")
);
