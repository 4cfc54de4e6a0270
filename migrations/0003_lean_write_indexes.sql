-- Indexes that every ingest write paid for but no query needs: status lookups go by request_id (the primary key)
-- and the audit list filters a tenant's entries found through the (tenant_id, seq) primary key.
drop index if exists ingest_requests_tenant;
drop index if exists audit_log_action;
