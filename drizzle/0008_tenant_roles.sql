CREATE TABLE "ferry"."tenant_roles" (
	"namespace" text PRIMARY KEY NOT NULL,
	"role_name" text NOT NULL,
	"lock_salt" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"rotated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_roles_role_name_unique" UNIQUE("role_name")
);
--> statement-breakpoint
-- Tenant isolation (issue 17). The functions the row-level security policies use; the policies themselves
-- are kept by store/tenant-isolation.ts after every migration, so tables added later are covered too.
-- The owner is whoever owns the schema (the role that ran the first migration) and the roles it is a member of.
CREATE FUNCTION "ferry"."is_state_owner"() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT pg_has_role(current_user, n.nspowner, 'USAGE') FROM pg_namespace n WHERE n.nspname = 'ferry'), false)
$$;
--> statement-breakpoint
CREATE FUNCTION "ferry"."tenant_namespace"() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT t.namespace FROM ferry.tenant_roles t WHERE t.role_name = current_user
$$;
--> statement-breakpoint
-- The advisory-lock key of a flow: salted with its namespace's secret salt, which only that namespace's role
-- (and the owner) can read, so another namespace cannot compute it and hold the flow's lock.
CREATE FUNCTION "ferry"."flow_lock_key"(flow text) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT ('x' || left(encode(sha256(convert_to(
    coalesce((SELECT t.lock_salt FROM ferry.tenant_roles t WHERE t.namespace = split_part(flow, '/', 1)), '') || '/' || flow, 'UTF8')), 'hex'), 16))::bit(64)::bigint
$$;
--> statement-breakpoint
ALTER TABLE "ferry"."tenant_roles" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "ferry"."tenant_roles" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "ferry_owner" ON "ferry"."tenant_roles" USING ((SELECT ferry.is_state_owner())) WITH CHECK ((SELECT ferry.is_state_owner()));
--> statement-breakpoint
CREATE POLICY "ferry_self" ON "ferry"."tenant_roles" FOR SELECT USING (role_name = current_user);
