-- The shared findings store (assets, findings), telemetry events, and SpectraStrike ingest request records.

create table assets (
  id          uuid primary key default gen_random_uuid(),
  tenant_id   uuid not null references tenants(id) on delete cascade,
  ref         text not null,
  type        text not null default 'unknown',
  name        text not null,
  attributes  jsonb not null default '{}'::jsonb,
  first_seen  timestamptz not null,
  last_seen   timestamptz not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  unique (tenant_id, ref)
);

create table findings (
  id              uuid primary key default gen_random_uuid(),
  tenant_id       uuid not null references tenants(id) on delete cascade,
  fingerprint     text not null,
  source          text not null,
  external_id     text,
  title           text not null,
  description     text,
  severity        text not null check (severity in ('info', 'low', 'medium', 'high', 'critical')),
  severity_rank   smallint not null,
  status          text not null,
  asset_id        uuid references assets(id) on delete set null,
  asset_ref       text,
  recommendation  text,
  metadata        jsonb not null default '{}'::jsonb,
  first_seen      timestamptz not null,
  last_seen       timestamptz not null,
  occurrences     integer not null default 1,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  unique (tenant_id, fingerprint)
);
create index findings_tenant_last_seen on findings (tenant_id, last_seen desc, id);
create index findings_tenant_severity on findings (tenant_id, severity_rank desc, last_seen desc);
create index findings_tenant_asset on findings (tenant_id, asset_id);

create table events (
  tenant_id      uuid not null references tenants(id) on delete cascade,
  event_id       text not null,
  source         text not null,
  source_system  text not null,
  event_type     text not null,
  occurred_at    timestamptz not null,
  severity       text not null,
  severity_rank  smallint not null,
  asset_ref      text,
  message        text,
  metadata       jsonb not null default '{}'::jsonb,
  request_id     uuid,
  received_at    timestamptz not null default now(),
  primary key (tenant_id, event_id)
);
create index events_tenant_occurred on events (tenant_id, occurred_at desc);

create table ingest_requests (
  request_id    uuid primary key,
  tenant_id     uuid not null references tenants(id) on delete cascade,
  endpoint      text not null,
  status        text not null,
  total         integer not null,
  accepted      integer not null,
  failed        integer not null,
  failed_items  jsonb not null default '[]'::jsonb,
  created_at    timestamptz not null,
  updated_at    timestamptz not null
);
create index ingest_requests_tenant on ingest_requests (tenant_id, created_at desc);
