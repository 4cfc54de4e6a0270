-- Prompt analysis (issue 4): tenants' custom rules and allowlist entries (enterprise tier), and the analysis log that
-- VV_PROMPT_LOG=metadata|full keeps (prompt text only in full mode; otherwise its SHA-256 and length).

create table prompt_rules (
  id          uuid primary key default gen_random_uuid(),
  tenant_id   uuid not null references tenants(id) on delete cascade,
  rule_id     text not null,
  action      text not null check (action in ('detect', 'allow')),
  enabled     boolean not null default true,
  definition  jsonb not null,
  created_by  text,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  unique (tenant_id, rule_id)
);

create table prompt_analyses (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null references tenants(id) on delete cascade,
  created_at     timestamptz not null default now(),
  principal      text not null,
  tier           text not null,
  source         text not null check (source in ('analyze', 'batch')),
  prompt_sha256  text not null,
  prompt_chars   integer not null,
  prompt         text,
  is_threat      boolean not null,
  risk_score     smallint not null,
  confidence     real not null,
  threat_types   text[] not null default '{}',
  rule_ids       text[] not null default '{}',
  analysis_ms    real not null
);
create index prompt_analyses_tenant_time on prompt_analyses (tenant_id, created_at desc, id desc);
