-- SPDX-License-Identifier: Apache-2.0
--
-- The incident knowledge store: for each (error signature, fix action), how often the fix was
-- tried and how often it worked. The table as first written here left out the seed's NOT NULL
-- and default constraints: 004_knowledge_constraints.sql puts them back (on tables made from
-- this file, before or after). vigil adds the counts behind success_rate and the unique index
-- it upserts on.
-- Re-runnable: every statement is a no-op the second time.

create table if not exists public.incident_knowledge (
	id uuid primary key default gen_random_uuid(),
	incident_type text,
	error_pattern jsonb,
	fix_action jsonb,
	success_rate numeric(3, 2)
		constraint incident_knowledge_success_rate_check check (success_rate between 0 and 1),
	last_applied timestamptz,
	created_at timestamptz default now(),
	created_by uuid references auth.users (id)
);

-- A rate alone cannot be merged with new outcomes; the counts can. Added by "alter" so that
-- a table the seed created before vigil gets them too.
alter table public.incident_knowledge add column if not exists attempts integer;
alter table public.incident_knowledge add column if not exists successes integer;

-- One row per (signature, action): `vigil export --sql` and the PostgreSQL sink upsert on
-- these two expressions.
create unique index if not exists incident_knowledge_signature_action
	on public.incident_knowledge ((error_pattern ->> 'signature'), (fix_action ->> 'action'));
