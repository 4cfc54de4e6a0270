-- Platform tables: identity, audit, idempotency, replay nonces, jobs.

create table tenants (
  id          uuid primary key default gen_random_uuid(),
  slug        text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$' or slug = '_system'),
  name        text not null,
  created_at  timestamptz not null default now()
);

-- Owner of audit entries that belong to no tenant (e.g. a request with an unverifiable token).
insert into tenants (id, slug, name) values ('00000000-0000-0000-0000-000000000000', '_system', 'System');

create table users (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null references tenants(id) on delete cascade,
  email          text not null,
  password_hash  text not null,
  role           text not null,
  created_at     timestamptz not null default now(),
  last_login_at  timestamptz,
  disabled_at    timestamptz
);
create unique index users_tenant_email on users (tenant_id, lower(email));

create table api_keys (
  id            uuid primary key default gen_random_uuid(),
  tenant_id     uuid not null references tenants(id) on delete cascade,
  name          text not null,
  prefix        text not null unique,
  key_hash      text not null,
  role          text not null,
  tier          text,
  created_at    timestamptz not null default now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
create index api_keys_tenant on api_keys (tenant_id, created_at desc);

-- Append-only, hash-chained per tenant. audit_heads holds each chain's tip so appends serialise on one row.
create table audit_log (
  tenant_id      uuid not null references tenants(id) on delete cascade,
  seq            bigint not null,
  id             uuid not null default gen_random_uuid(),
  occurred_at    timestamptz not null,
  action         text not null,
  outcome        text not null,
  actor_type     text not null,
  actor_id       text,
  resource_type  text,
  resource_id    text,
  request_id     text,
  details        jsonb not null default '{}'::jsonb,
  prev_hash      text not null,
  hash           text not null,
  primary key (tenant_id, seq)
);
create index audit_log_action on audit_log (tenant_id, action, occurred_at desc);

create table audit_heads (
  tenant_id  uuid primary key references tenants(id) on delete cascade,
  seq        bigint not null,
  hash       text not null
);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();

create table idempotency_keys (
  tenant_id         uuid not null references tenants(id) on delete cascade,
  endpoint          text not null,
  key               text not null,
  request_hash      text not null,
  state             text not null check (state in ('in_progress', 'completed')),
  response_status   integer,
  response_body     text,
  response_headers  jsonb,
  created_at        timestamptz not null default now(),
  locked_until      timestamptz not null,
  expires_at        timestamptz not null,
  primary key (tenant_id, endpoint, key)
);
create index idempotency_keys_expires on idempotency_keys (expires_at);

create table replay_nonces (
  scope       text not null,
  nonce       text not null,
  expires_at  timestamptz not null,
  primary key (scope, nonce)
);
create index replay_nonces_expires on replay_nonces (expires_at);

create table jobs (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid references tenants(id) on delete cascade,
  queue             text not null,
  name              text not null,
  payload           jsonb not null,
  state             text not null check (state in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  attempts          integer not null default 0,
  max_attempts      integer not null,
  backoff_ms        integer not null,
  timeout_ms        integer not null,
  run_at            timestamptz not null default now(),
  locked_by         text,
  locked_until      timestamptz,
  progress          jsonb,
  result            jsonb,
  last_error        text,
  cancel_requested  boolean not null default false,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  started_at        timestamptz,
  finished_at       timestamptz
);
create index jobs_runnable on jobs (queue, run_at) where state = 'queued';
create index jobs_running on jobs (locked_until) where state = 'running';
create index jobs_tenant on jobs (tenant_id, created_at desc);
