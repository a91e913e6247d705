-- SPDX-License-Identifier: Apache-2.0
--
-- The OpenTelemetry trace context of an incident (workloads with trace.http or trace.env):
-- the trace ids of the requests it broke (the faulting thread's first, at most 8), the
-- faulting request's parent span id, and where they came from (http: a traceparent header
-- read in the kernel; env: TRACEPARENT at exec). Null when the incident has none.
-- Re-runnable: every statement is a no-op the second time.

alter table public.incidents add column if not exists trace_ids jsonb;      -- ["<32 hex>", ...]
alter table public.incidents add column if not exists span_id text;        -- 16 hex
alter table public.incidents add column if not exists trace_source text;   -- http | env

-- "Which incidents broke this trace?": a trace id from the tracing backend, one lookup.
create index if not exists incidents_trace_ids on public.incidents using gin (trace_ids);
