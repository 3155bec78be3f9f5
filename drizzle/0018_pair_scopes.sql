-- ferry.pairs keyed by a small integer per flow and entity (its scope) instead of the two texts: the
-- primary key and the target-key index compare one integer where they compared (flow, entity), equal
-- in every comparison within a flow entity. flow and entity stay on the row (row-level security,
-- the deletions trigger, the data API read them); pairs written before are converted in place.
CREATE TABLE "ferry"."pair_scopes" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ferry"."pair_scopes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"flow" text NOT NULL,
	"entity" text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "pair_scopes_flow_entity_idx" ON "ferry"."pair_scopes" USING btree ("flow","entity");--> statement-breakpoint
-- The scope of a flow entity, created when missing. Security definer: namespaces' roles only read
-- ferry.pair_scopes (so none can take an id ahead of the sequence, or name another's scope); it answers
-- only a session that acts for the flow (its namespace's role, or the owner).
CREATE FUNCTION "ferry"."pair_scope"(p_flow text, p_entity text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  found integer;
BEGIN
  IF NOT ferry.session_acts_for(p_flow) THEN
    RAISE EXCEPTION 'permission denied for the pairs of flow %', p_flow USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT id INTO found FROM ferry.pair_scopes WHERE flow = p_flow AND entity = p_entity;
  IF found IS NULL THEN
    INSERT INTO ferry.pair_scopes (flow, entity) VALUES (p_flow, p_entity) ON CONFLICT (flow, entity) DO NOTHING RETURNING id INTO found;
  END IF;
  IF found IS NULL THEN
    -- Created by another session after the first look: this statement's snapshot sees it.
    SELECT id INTO found FROM ferry.pair_scopes WHERE flow = p_flow AND entity = p_entity;
  END IF;
  RETURN found;
END $$;
--> statement-breakpoint
-- The namespace policy of ferry.pairs is made again (store/tenant-isolation.ts) with the scope check:
-- a namespace writes pairs only under its own flow entity's scope.
DROP POLICY IF EXISTS "ferry_namespace" ON "ferry"."pairs";--> statement-breakpoint
INSERT INTO "ferry"."pair_scopes" ("flow", "entity") SELECT DISTINCT "flow", "entity" FROM "ferry"."pairs" ORDER BY "flow", "entity";--> statement-breakpoint
ALTER TABLE "ferry"."pairs" ADD COLUMN "scope" integer;--> statement-breakpoint
UPDATE "ferry"."pairs" p SET "scope" = s."id" FROM "ferry"."pair_scopes" s WHERE s."flow" = p."flow" AND s."entity" = p."entity";--> statement-breakpoint
ALTER TABLE "ferry"."pairs" ALTER COLUMN "scope" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "ferry"."pairs" DROP CONSTRAINT "pairs_flow_entity_source_key_pk";--> statement-breakpoint
DROP INDEX "ferry"."pairs_target_key_idx";--> statement-breakpoint
ALTER TABLE "ferry"."pairs" ADD CONSTRAINT "pairs_scope_source_key_pk" PRIMARY KEY("scope","source_key");--> statement-breakpoint
CREATE INDEX "pairs_target_key_idx" ON "ferry"."pairs" USING btree ("scope","target_key");--> statement-breakpoint
-- The linked target keys of other flow entities on the same table: through their scopes, so the
-- look-up probes the (scope, target_key) index as it probed (flow, entity, target_key).
CREATE OR REPLACE FUNCTION "ferry"."shared_target_rows"(p_flow text, p_entity text, p_keys text[])
RETURNS TABLE (other_flow text, other_entity text, target_key text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN split_part(o.flow, '/', 1) = split_part(p_flow, '/', 1) THEN o.flow END,
    CASE WHEN split_part(o.flow, '/', 1) = split_part(p_flow, '/', 1) THEN o.entity END,
    p.target_key
  FROM ferry.flow_targets me
  JOIN ferry.flow_targets o ON o.target_system = me.target_system AND o.target_table = me.target_table AND o.target_keys = me.target_keys
    AND NOT (o.flow = me.flow AND o.entity = me.entity)
  JOIN ferry.pair_scopes s ON s.flow = o.flow AND s.entity = o.entity
  JOIN ferry.pairs p ON p.scope = s.id AND p.target_key = ANY (p_keys)
  WHERE me.flow = p_flow AND me.entity = p_entity AND ferry.session_acts_for(p_flow)
$$;
