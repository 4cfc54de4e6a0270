-- Outgoing webhooks (job notifications): one Standard Webhooks signing secret per tenant, and every delivery with
-- its attempts, so that a caller can see what was sent where and how it went.

create table webhook_secrets (
  tenant_id   uuid primary key references tenants(id) on delete cascade,
  secret      text not null,
  created_at  timestamptz not null default now(),
  rotated_at  timestamptz
);

create table webhook_deliveries (
  id            uuid primary key default gen_random_uuid(),
  tenant_id     uuid not null references tenants(id) on delete cascade,
  source_type   text not null,
  source_id     text not null,
  event         text not null,
  url           text not null,
  headers       text,
  payload       jsonb not null,
  status        text not null check (status in ('pending', 'delivered', 'failed')),
  attempts      jsonb not null default '[]'::jsonb,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  delivered_at  timestamptz
);
create index webhook_deliveries_source on webhook_deliveries (tenant_id, source_type, source_id, created_at);
