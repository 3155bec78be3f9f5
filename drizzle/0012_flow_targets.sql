CREATE TABLE "ferry"."flow_targets" (
	"flow" text NOT NULL,
	"entity" text NOT NULL,
	"target_system" text NOT NULL,
	"target_table" text NOT NULL,
	"target_keys" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flow_targets_flow_entity_pk" PRIMARY KEY("flow","entity")
);
--> statement-breakpoint
CREATE INDEX "flow_targets_table_idx" ON "ferry"."flow_targets" USING btree ("target_system","target_table");--> statement-breakpoint
-- May the session act for this flow? Its namespace's role, or the owner. session_user, not current_user:
-- inside the security-definer function below, current_user is the function's owner.
CREATE FUNCTION "ferry"."session_acts_for"(p_flow text) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM ferry.tenant_roles t WHERE t.role_name = session_user AND t.namespace = split_part(p_flow, '/', 1))
    OR coalesce((SELECT pg_has_role(session_user, n.nspowner, 'USAGE') FROM pg_namespace n WHERE n.nspname = 'ferry'), false)
$$;
--> statement-breakpoint
-- The keys among p_keys that another flow entity writing the same target table (system, table, key
-- columns) has linked, in any namespace. Another flow is named only when it is in p_flow's namespace
-- (the report goes to that namespace); otherwise other_flow and other_entity are NULL ("another
-- namespace"). Security definer, because row-level security hides other namespaces' rows from a
-- namespace role; it answers only a session that acts for p_flow.
CREATE FUNCTION "ferry"."shared_target_rows"(p_flow text, p_entity text, p_keys text[])
RETURNS TABLE (other_flow text, other_entity text, target_key text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN split_part(o.flow, '/', 1) = split_part(p_flow, '/', 1) THEN o.flow END,
    CASE WHEN split_part(o.flow, '/', 1) = split_part(p_flow, '/', 1) THEN o.entity END,
    p.target_key
  FROM ferry.flow_targets me
  JOIN ferry.flow_targets o ON o.target_system = me.target_system AND o.target_table = me.target_table AND o.target_keys = me.target_keys
    AND NOT (o.flow = me.flow AND o.entity = me.entity)
  JOIN ferry.pairs p ON p.flow = o.flow AND p.entity = o.entity AND p.target_key = ANY (p_keys)
  WHERE me.flow = p_flow AND me.entity = p_entity AND ferry.session_acts_for(p_flow)
$$;
--> statement-breakpoint
-- Whether any other flow entity writes the same target table: when none does, a run asks nothing per batch.
CREATE FUNCTION "ferry"."target_table_shared"(p_flow text, p_entity text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT ferry.session_acts_for(p_flow) AND EXISTS (
    SELECT 1 FROM ferry.flow_targets me
    JOIN ferry.flow_targets o ON o.target_system = me.target_system AND o.target_table = me.target_table AND o.target_keys = me.target_keys
      AND NOT (o.flow = me.flow AND o.entity = me.entity)
    WHERE me.flow = p_flow AND me.entity = p_entity)
$$;
