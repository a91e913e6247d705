-- SPDX-License-Identifier: Apache-2.0
--
-- What vigil's journal holds, as tables: every incident in its latest state, and the audit
-- trail of healing actions (an `intent` row before an action runs, its outcome after).
-- Column names are the journal's field names (README, "What vigil writes").
-- Re-runnable: every statement is a no-op the second time.

create table if not exists public.incidents (
	id text primary key,          -- vigil's 16-hex id: opening ms (12 hex) + sequence (4)
	node text not null,
	workload text,
	signature text,
	class text,
	state text,
	count bigint,
	title text,
	detail text,
	opened_at timestamptz,        -- ts of the id's first record in the journal
	detect_us bigint,             -- kernel event -> incident opened
	recovery_ms bigint,           -- opened -> resolved; null while unresolved
	lossy boolean not null default false,
	chain jsonb,                  -- [{class, detail, pid, before_ms}]
	updated_at timestamptz        -- ts of the record this row was loaded from
);

create index if not exists incidents_workload_opened
	on public.incidents (workload, opened_at desc);

create table if not exists public.healing_actions (
	id bigserial primary key,
	incident text not null references public.incidents (id) on delete cascade,
	node text not null,
	workload text,
	signature text,
	action text not null,         -- restart, breaker
	outcome text not null,        -- scheduled, intent, started, success, failed, skipped, open
	detail text,
	pid integer,
	at timestamptz not null,
	-- A journal loaded twice must not duplicate the trail: the export inserts with
	-- "on conflict do nothing" on this key.
	constraint healing_actions_once unique (incident, action, outcome, at)
);

create index if not exists healing_actions_signature_action
	on public.healing_actions (signature, action, at);
