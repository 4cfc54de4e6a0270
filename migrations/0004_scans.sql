-- Scanner file imports (specs/scanner-import-phoenix.md): one row per upload with the spec's job fields, its log
-- lines, and what the import did to the shared findings store.

-- Findings imported from scanner files remember which parser produced them and which import saw them last, so a
-- `delta` import can close what the new file no longer reports (same tenant, scanner and asset).
alter table findings add column scanner text;
alter table findings add column last_import_id text;
create index findings_tenant_scanner_asset on findings (tenant_id, scanner, asset_id) where scanner is not null;

create table scan_imports (
  id                        text primary key,
  tenant_id                 uuid not null references tenants(id) on delete cascade,
  job_id                    uuid,
  status                    text not null check (status in ('pending', 'queued', 'processing', 'completed', 'failed', 'cancelled')),
  progress                  real not null default 0,
  current_step              text,
  filename                  text not null,
  file_size_bytes           bigint not null,
  file_sha256               text not null,
  storage_path              text,
  scanner_type              text not null,
  detected_scanner          text,
  asset_type                text,
  assessment_name           text not null,
  import_type               text not null,
  options                   jsonb not null,
  phoenix                   jsonb,
  webhook_url               text,
  webhook_headers           text,
  assets_imported           integer,
  vulnerabilities_imported  integer,
  findings_new              integer,
  findings_updated          integer,
  findings_closed           integer,
  error_message             text,
  batch_summary             jsonb,
  created_by                text,
  created_at                timestamptz not null default now(),
  updated_at                timestamptz not null default now(),
  started_at                timestamptz,
  completed_at              timestamptz
);
create index scan_imports_tenant_created on scan_imports (tenant_id, created_at desc);
create index scan_imports_tenant_status on scan_imports (tenant_id, status, created_at desc);

create table scan_import_logs (
  import_id  text not null references scan_imports(id) on delete cascade,
  seq        bigint generated always as identity,
  at         timestamptz not null default now(),
  level      text not null,
  message    text not null,
  primary key (import_id, seq)
);
