-- SPDX-License-Identifier: Apache-2.0
--
-- Row-level security as Supabase projects use it: only the service role (vigil's exporter,
-- with the service key) writes; signed-in users read. auth.role() is Supabase's: the role
-- claim of the request's JWT ('anon', 'authenticated' or 'service_role').
-- Note: a superuser or the table owner bypasses RLS (as does Supabase's service_role, which
-- has BYPASSRLS); the write policy covers a service-role session that does not.
-- Re-runnable: "create policy" has no "if not exists", hence the guards.

alter table public.incident_knowledge enable row level security;
alter table public.incidents enable row level security;
alter table public.healing_actions enable row level security;

do $$
declare
	t text;
begin
	foreach t in array array['incident_knowledge', 'incidents', 'healing_actions'] loop
		if not exists (select 1 from pg_policies
			       where schemaname = 'public' and tablename = t
				 and policyname = t || '_service_write') then
			execute format('create policy %I on public.%I for all '
				       'using (auth.role() = ''service_role'') '
				       'with check (auth.role() = ''service_role'')',
				       t || '_service_write', t);
		end if;
		if not exists (select 1 from pg_policies
			       where schemaname = 'public' and tablename = t
				 and policyname = t || '_authenticated_read') then
			execute format('create policy %I on public.%I for select '
				       'using (auth.role() in (''authenticated'', ''service_role''))',
				       t || '_authenticated_read', t);
		end if;
	end loop;
end
$$;
