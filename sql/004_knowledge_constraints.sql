-- SPDX-License-Identifier: Apache-2.0
--
-- The service's own constraints on incident_knowledge, which 001 left out: incident_type,
-- error_pattern, fix_action and success_rate are required, success_rate defaults to 0.0 and
-- its range check has a name of its own. And who made each row: created_by is the seed's
-- uuid of an auth.users account, which an agent is not, so vigil names itself in
-- created_by_agent ('vigil@NODE') and leaves created_by to rows people make.
-- Re-runnable: every statement is a no-op the second time. Rows made before by hand with
-- nulls in these columns are given the values vigil would write, so that the constraints
-- hold.

update public.incident_knowledge set incident_type = 'unknown' where incident_type is null;
update public.incident_knowledge set error_pattern = '{}'::jsonb where error_pattern is null;
update public.incident_knowledge set fix_action = '{}'::jsonb where fix_action is null;
update public.incident_knowledge
	set success_rate = coalesce(round(successes::numeric / nullif(attempts, 0), 2), 0.0)
	where success_rate is null;

alter table public.incident_knowledge alter column incident_type set not null;
alter table public.incident_knowledge alter column error_pattern set not null;
alter table public.incident_knowledge alter column fix_action set not null;
alter table public.incident_knowledge alter column success_rate set default 0.0;
alter table public.incident_knowledge alter column success_rate set not null;

-- The range check, by name (001 declares it under this name too; a table made before that
-- has it under the same name, which PostgreSQL gives a column check).
do $$
begin
	if not exists (select 1 from pg_constraint
		       where conrelid = 'public.incident_knowledge'::regclass
			 and conname = 'incident_knowledge_success_rate_check') then
		alter table public.incident_knowledge
			add constraint incident_knowledge_success_rate_check
			check (success_rate between 0 and 1);
	end if;
end
$$;

alter table public.incident_knowledge add column if not exists created_by_agent text;
