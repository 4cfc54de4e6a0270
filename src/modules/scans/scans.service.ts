import { createHmac, randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { AuditService } from '../../platform/audit.js'
import type { EventBus } from '../../platform/events.js'
import type { WebhookDelivery, WebhookService } from '../../platform/webhooks.js'
import type { Principal } from '../../platform/auth/authenticator.js'
import type { SecretBox } from '../../platform/crypto/secret-box.js'
import { AppError, NotFoundError, ValidationError } from '../../platform/errors.js'
import type { JobContext, JobQueue } from '../../platform/jobs/index.js'
import { UnrecoverableJobError } from '../../platform/jobs/index.js'
import type { Metrics } from '../../platform/metrics.js'
import type { HttpClient } from '../../platform/http-client/index.js'
import { exportToPhoenix, PhoenixExportError, type PhoenixExportResult, type PhoenixTarget } from './phoenix.js'
import { Anonymizer } from './anonymize.js'
import { normalize, type StoreAsset, type StoreFinding } from './normalize.js'
import { loadDocument } from './parsers/document.js'
import type { ParserRegistry } from './parsers/registry.js'
import type { ParseResult } from './parsers/types.js'
import { EmptyReportError, ScanFormatError } from './parsers/util.js'
import type { UploadOptions } from './scans.form.js'
import type { ScanImportRow, ScansRepository } from './scans.repository.js'
import { completionSummary, type JobOut, type JobsQuery } from './scans.schemas.js'
import { pgJson } from '../../platform/db/storable-text.js'

export const SCAN_IMPORT_JOB = 'scans.import'
/** Event-bus channel of one import's live messages. */
export const jobChannel = (id: string) => `scans.job.${id}`
/** Store writes per statement: large enough to amortise round trips, small enough to report progress. */
const STORE_BATCH = 2000
/** Findings batches written at once, each in its own transaction on its own connection. */
const STORE_CONCURRENCY = 2
const ASSET_BATCH = 5000

export interface ScansDeps {
  repository: ScansRepository
  jobs: JobQueue
  registry: ParserRegistry
  secrets: SecretBox
  audit: AuditService
  metrics: Metrics
  logger: Logger
  events: EventBus
  webhooks: WebhookService
  http: HttpClient
  /** VV_PHOENIX_*: used when an upload names no Phoenix credentials of its own. */
  phoenixDefaults: { apiUrl?: string | undefined; clientId?: string | undefined; clientSecret?: string | undefined }
  /** Keys the anonymizer per tenant (derived, never stored). */
  anonymizeKey: Buffer
  settings: { logLines: number; jobsConcurrency: number; redis: boolean; runsJobs: () => boolean }
}

export interface StoredUpload {
  importId: string
  filename: string
  size: number
  sha256: string
  path: string
}

/** `job-` + 24 hex digits: the spec's shape, unguessable. */
export function newImportId(): string {
  return `job-${randomBytes(12).toString('hex')}`
}

function defaultAssessmentName(filename: string, at: Date): string {
  const stem = filename.replace(/\.[^.]+$/, '') || 'scan'
  return `${stem} ${at.toISOString().slice(0, 16).replace('T', ' ')}`
}

function logLine(at: Date, level: string, message: string): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} - ${level} - ${message}`
}

export function createScansService(deps: ScansDeps) {
  const { repository: repo, jobs, registry, secrets, audit, settings } = deps
  const m = {
    imports: deps.metrics.counter({ name: 'scan_imports_total', help: 'Scanner file imports finished, by outcome and scanner', labelNames: ['status', 'scanner'] }),
    findings: deps.metrics.counter({ name: 'scan_findings_imported_total', help: 'Findings read from scanner files', labelNames: ['scanner'] }),
    duration: deps.metrics.histogram({ name: 'scan_import_duration_seconds', help: 'Time from job start to completion of scanner imports', labelNames: ['scanner'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300] }),
  }

  /** A live message for WS /ws/{job_id} subscribers, in whichever process they are connected. */
  function emit(id: string, type: 'log' | 'progress' | 'complete' | 'error', data: Record<string, unknown>) {
    deps.events.publish(jobChannel(id), { type, job_id: id, timestamp: new Date().toISOString(), data })
      .catch((err: unknown) => deps.logger.warn({ err, import_id: id }, 'could not publish job event'))
  }

  async function log(id: string, level: 'INFO' | 'WARNING' | 'ERROR', message: string) {
    const text = message.slice(0, 2000)
    await repo.appendLog(id, level, text)
    emit(id, 'log', { level, message: text })
  }

  async function toJob(row: ScanImportRow, logs?: { at: Date; level: string; message: string }[], deliveries?: WebhookDelivery[]): Promise<JobOut> {
    const lines = logs ?? (await repo.recentLogs([row.id], settings.logLines)).get(row.id) ?? []
    const hooks = deliveries ?? (row.webhook_url ? (await deps.webhooks.list(row.tenant_id, 'scan_import', [row.id])).get(row.id) ?? [] : [])
    return {
      job_id: row.id, status: row.status, progress: Math.round(row.progress * 10) / 10, current_step: row.current_step,
      created_at: row.created_at.toISOString(), started_at: row.started_at?.toISOString() ?? null, completed_at: row.completed_at?.toISOString() ?? null,
      filename: row.filename, file_size_bytes: Number(row.file_size_bytes),
      scanner_type: row.detected_scanner ?? row.scanner_type, detected_scanner: row.detected_scanner,
      asset_type: row.asset_type, import_type: row.import_type as JobOut['import_type'],
      assets_imported: row.assets_imported, vulnerabilities_imported: row.vulnerabilities_imported,
      findings_new: row.findings_new, findings_updated: row.findings_updated, findings_closed: row.findings_closed,
      assessment_name: row.assessment_name, error_message: row.error_message, error_traceback: null,
      batch_summary: row.batch_summary as JobOut['batch_summary'],
      recent_logs: lines.map((l) => logLine(l.at, l.level, l.message)),
      webhook_deliveries: hooks,
    }
  }

  /** The spec's webhook payloads, delivered (signed, retried) by the job system. */
  async function notify(row: ScanImportRow, payload: Record<string, unknown>) {
    if (!row.webhook_url) return
    const headers = row.webhook_headers ? JSON.parse(deps.secrets.open(row.webhook_headers, `scan-import:${row.id}`)) as Record<string, string> : undefined
    await deps.webhooks.enqueue({
      tenantId: row.tenant_id, sourceType: 'scan_import', sourceId: row.id, event: `scan_import.${String(payload.status)}`, url: row.webhook_url, headers,
      payload: { job_id: row.id, filename: row.filename, scanner_type: row.detected_scanner ?? row.scanner_type, timestamp: new Date().toISOString(), ...payload },
    }).catch((err: unknown) => deps.logger.error({ err, import_id: row.id }, 'could not queue the webhook'))
  }

  async function fail(row: ScanImportRow, message: string, started: number) {
    await log(row.id, 'ERROR', message)
    const failed = await repo.transition(row.id, ['processing', 'queued', 'pending'], 'failed', { error_message: message, completed_at: new Date(), current_step: 'Failed' })
    emit(row.id, 'error', { status: 'failed', progress: failed?.progress ?? row.progress, error_message: message })
    if (failed) await notify(failed, { status: 'failed', success: false, error: message })
    m.imports.inc({ status: 'failed', scanner: row.detected_scanner ?? row.scanner_type })
    m.duration.observe({ scanner: row.detected_scanner ?? row.scanner_type }, (Date.now() - started) / 1000)
    await audit.record({ tenantId: row.tenant_id, action: 'scans.import_failed', outcome: 'failure', actorType: 'system', resourceType: 'scan_import', resourceId: row.id, details: { filename: row.filename, error: message } })
  }

  async function step(id: string, progress: number, currentStep: string) {
    await repo.update(id, { progress, current_step: currentStep })
    emit(id, 'progress', { status: 'processing', progress, current_step: currentStep })
  }

  const phoenixAad = (id: string) => `scan-import:${id}`

  /** The upload's own Phoenix credentials (sealed in the row), else the VV_PHOENIX_* defaults, else none. */
  function phoenixTarget(row: ScanImportRow): PhoenixTarget | undefined {
    const own = row.phoenix as { client_id?: string; api_url?: string | null; client_secret?: string | null } | null
    if (own?.client_id && own.client_secret) {
      const apiUrl = own.api_url ?? deps.phoenixDefaults.apiUrl
      if (apiUrl) return { apiUrl, clientId: own.client_id, clientSecret: deps.secrets.open(own.client_secret, phoenixAad(row.id)) }
    }
    if (own?.client_id) return undefined
    const d = deps.phoenixDefaults
    return d.apiUrl && d.clientId && d.clientSecret ? { apiUrl: d.apiUrl, clientId: d.clientId, clientSecret: d.clientSecret } : undefined
  }

  /** The sealed per-upload secret is kept only until the job ends. */
  function withoutSecret(row: ScanImportRow): string | null {
    if (!row.phoenix) return null
    const { client_secret: _drop, ...rest } = row.phoenix as Record<string, unknown>
    return pgJson(rest)
  }

  /** The import job: parse, normalise, write in batches, close absent findings for delta, record the outcome. */
  async function runImport(ctx: JobContext<{ importId: string }>): Promise<unknown> {
    const started = Date.now()
    const initial = await repo.getById(ctx.payload.importId)
    if (!initial || initial.status === 'cancelled' || initial.status === 'completed' || initial.status === 'failed') return { skipped: initial?.status ?? 'missing' }
    const row = (await repo.transition(initial.id, ['pending', 'queued', 'processing'], 'processing', { started_at: initial.started_at ?? new Date(), current_step: 'Reading file', progress: 1, error_message: null }))!
    const opts = row.options as unknown as Omit<UploadOptions, 'phoenix' | 'webhookHeaders' | 'webhookUrl' | 'scannerType' | 'assetType' | 'assessmentName' | 'importType'>
    const abortIfCancelled = async () => {
      if (ctx.signal.aborted) {
        const cur = await repo.getById(row.id)
        if (cur?.status === 'cancelled') throw new UnrecoverableJobError('cancelled')
        throw new Error('aborted')
      }
    }
    try {
      if (ctx.attempt > 1) await log(row.id, 'WARNING', `Resuming after an interruption (attempt ${ctx.attempt})`)
      await log(row.id, 'INFO', `Processing file: ${row.filename} (${Number(row.file_size_bytes).toLocaleString('en-US')} bytes)`)
      if (!row.storage_path) throw new ScanFormatError('The uploaded file is no longer available')
      // Held only until it is decoded: large reports should not sit in memory twice.
      let content: Buffer | undefined = await readFile(row.storage_path).catch(() => { throw new ScanFormatError('The uploaded file is no longer available') })
      const parseStart = Date.now()

      let parser = row.scanner_type === 'auto' ? undefined : registry.resolve(row.scanner_type)
      let result: ParseResult | undefined
      const repairs: string[] = []
      const warnings: string[] = []
      try {
        const doc = loadDocument(row.filename, content)
        content = undefined
        if (!parser) {
          const detection = registry.detect(doc)
          if (!detection) throw new ScanFormatError(`Could not detect the scanner of this ${doc.kind.toUpperCase()} file; pass scanner_type (one of: ${registry.names().join(', ')})`)
          parser = detection.parser
          await repo.update(row.id, { detected_scanner: parser.id })
          await log(row.id, 'INFO', `Detected scanner type: ${parser.id} (${parser.label})${detection.runnersUp.length ? `; also considered ${detection.runnersUp.map((r) => r.id).join(', ')}` : ''}`)
        } else {
          await log(row.id, 'INFO', `Scanner type: ${parser.id} (${parser.label})`)
          if (!parser.formats.includes(doc.kind)) throw new ScanFormatError(`${parser.label} reports are ${parser.formats.join(' or ').toUpperCase()}, but this file is ${doc.kind.toUpperCase()}`)
        }
        await step(row.id, 10, 'Parsing')
        result = parser.parse(doc, { fixData: opts.fixData, repair: (msg) => repairs.push(msg), warn: (msg) => warnings.push(msg) })
      } catch (err) {
        if (err instanceof EmptyReportError && parser) {
          await log(row.id, 'INFO', `${err.message}: nothing to import`)
          result = { assets: [], findings: [] }
        } else if (err instanceof ScanFormatError) {
          throw err
        } else {
          // A parser bug on odd input: the job fails with a message, the worker and other jobs carry on.
          deps.logger.warn({ err, import_id: row.id, scanner: parser?.id }, 'parser failed')
          throw new ScanFormatError(`The ${parser?.label ?? 'scanner'} report could not be read: ${(err as Error).message}`)
        }
      }
      for (const r of repairs.slice(0, 50)) await log(row.id, 'INFO', `fix_data: ${r}`)
      if (repairs.length > 50) await log(row.id, 'INFO', `fix_data: ${repairs.length - 50} more repairs`)
      for (const w of warnings.slice(0, 50)) await log(row.id, 'WARNING', w)
      const scanner = parser!.id

      if (opts.anonymize) {
        result = new Anonymizer(createHmac('sha256', deps.anonymizeKey).update(`anonymize\n${row.tenant_id}`).digest()).apply(result)
        await log(row.id, 'INFO', 'Anonymized hosts, IPs, e-mail addresses, user names and paths')
      }
      const normalized = normalize(result!, { parserId: scanner, assetTypeOverride: (row.asset_type ?? undefined) as never })
      result = undefined
      const parseMs = Date.now() - parseStart
      await log(row.id, 'INFO', `Parsed ${normalized.assets.length} assets with ${normalized.parsedFindings} vulnerabilities`)
      await abortIfCancelled()

      // Which assets and findings are stored, per the form's options.
      let assets: StoreAsset[] = normalized.assets
      let findings: StoreFinding[] = normalized.findings
      if (opts.justTags) {
        findings = []
        assets = assets.filter((a) => a.tags.length > 0)
      } else if (opts.createEmptyAssets) {
        findings = []
      } else if (!opts.createInventoryAssets) {
        assets = assets.filter((a) => a.findings > 0)
      }
      await step(row.id, 30, 'Importing assets and findings')

      const storeStart = Date.now()
      const now = new Date()
      let inserted = 0
      let updated = 0
      // Assets first (the findings join on them), then the findings in batches, STORE_CONCURRENCY at a time.
      const assetIds: string[] = []
      for (let i = 0; i < assets.length || i === 0; i += ASSET_BATCH) {
        const chunk = assets.slice(i, i + ASSET_BATCH)
        const r = opts.justTags ? await repo.writeTagsOnly(row.tenant_id, chunk) : await repo.writeBatch(row.tenant_id, row.id, scanner, now, chunk, [])
        assetIds.push(...r.assetIds)
        if (assets.length === 0) break
      }
      const batch = STORE_BATCH
      const batches = Math.ceil(findings.length / batch)
      let next = 0
      let written = 0
      const worker = async () => {
        for (let i = next++; i < batches; i = next++) {
          const r = await repo.writeBatch(row.tenant_id, row.id, scanner, now, [], findings.slice(i * batch, (i + 1) * batch))
          inserted += r.inserted
          updated += r.updated
          written++
          await step(row.id, 30 + Math.round((written / batches) * 60), `Importing findings (batch ${written} of ${batches})`)
          await abortIfCancelled()
        }
      }
      await Promise.all(Array.from({ length: Math.min(STORE_CONCURRENCY, batches) }, worker))
      let closed = 0
      if (row.import_type === 'delta' && !opts.justTags && !opts.createEmptyAssets) {
        closed = await repo.closeAbsent(row.tenant_id, row.id, scanner, assetIds)
        await log(row.id, 'INFO', `Delta import closed ${closed} findings no longer reported`)
      }
      const storeMs = Date.now() - storeStart

      let exported: PhoenixExportResult | undefined
      const target = phoenixTarget(row)
      if (target) {
        await step(row.id, 92, 'Exporting to Phoenix')
        await log(row.id, 'INFO', `Exporting to Phoenix at ${new URL(target.apiUrl).origin} (client ${target.clientId})`)
        exported = await exportToPhoenix(deps.http, target, assets, opts.justTags ? [] : findings, {
          importType: opts.justTags ? 'merge' : row.import_type as 'new' | 'merge' | 'delta', assessmentName: row.assessment_name,
          maxBatchSize: opts.maxBatchSize, maxPayloadMb: opts.maxPayloadMb, enableBatching: opts.enableBatching, signal: ctx.signal,
          log: (msg) => log(row.id, 'INFO', msg),
        })
        await log(row.id, 'INFO', `Exported ${exported.assets} assets and ${exported.findings} open findings to Phoenix in ${exported.requests.length} requests`
          + (exported.skippedFindings ? ` (${exported.skippedFindings} closed, false-positive or accepted findings not sent)` : ''))
      }

      await log(row.id, 'INFO', `Stored ${inserted} new and ${updated} known findings on ${assets.length} assets`)
      const completed = await repo.transition(row.id, ['processing'], 'completed', {
        progress: 100, current_step: 'Completed', completed_at: new Date(),
        assets_imported: normalized.assets.length, vulnerabilities_imported: normalized.parsedFindings,
        findings_new: inserted, findings_updated: updated, findings_closed: closed,
        batch_summary: pgJson({
          batches, batch_size: batch, assets: assets.length, findings_written: findings.length,
          duration_ms: Date.now() - started, parse_ms: parseMs, store_ms: storeMs,
          ...(exported ? { phoenix: { requests: exported.requests, assets: exported.assets, findings: exported.findings } } : {}),
        }),
        storage_path: null,
        phoenix: withoutSecret(row),
      })
      await rm(row.storage_path, { force: true })
      if (!completed) return { cancelled: true }
      const summary = completionSummary(completed)
      emit(row.id, 'complete', summary)
      await notify(completed, { ...summary, success: true })
      m.imports.inc({ status: 'completed', scanner })
      m.findings.inc({ scanner }, normalized.parsedFindings)
      m.duration.observe({ scanner }, (Date.now() - started) / 1000)
      await audit.record({
        tenantId: row.tenant_id, action: 'scans.import_completed', outcome: 'success', actorType: 'system', resourceType: 'scan_import', resourceId: row.id,
        details: { filename: row.filename, scanner, assets: normalized.assets.length, findings: normalized.parsedFindings, new: inserted, updated, closed },
      })
      return { scanner, assets: normalized.assets.length, findings: normalized.parsedFindings }
    } catch (err) {
      if (err instanceof UnrecoverableJobError && err.message === 'cancelled') {
        await log(row.id, 'WARNING', 'Cancelled by user')
        if (row.storage_path) await rm(row.storage_path, { force: true })
        throw err
      }
      if (err instanceof ScanFormatError || err instanceof PhoenixExportError) {
        if (err instanceof PhoenixExportError) await repo.update(row.id, { phoenix: withoutSecret(row) })
        await fail(row, err instanceof PhoenixExportError ? `${err.message} (the findings are stored in VeriVault)` : err.message, started)
        if (row.storage_path) await rm(row.storage_path, { force: true })
        throw new UnrecoverableJobError(err.message)
      }
      // Infrastructure trouble (database, disk): the job system retries; the last attempt marks the import failed.
      await log(row.id, 'WARNING', `Attempt ${ctx.attempt} failed: ${(err as Error).message}`).catch(() => {})
      if (ctx.attempt >= 3) await fail(row, `Import failed: ${(err as Error).message}`, started).catch(() => {})
      throw err
    }
  }

  return {
    runImport,
    toJob,

    /** Records an uploaded file and queues its import. */
    async accept(principal: Principal, upload: StoredUpload, opts: UploadOptions): Promise<ScanImportRow> {
      if (opts.phoenix && !opts.phoenix.apiUrl && !deps.phoenixDefaults.apiUrl) {
        throw new ValidationError('Invalid form field phoenix_api_url: required with phoenix_client_id (no VV_PHOENIX_API_URL default is configured)',
          [{ field: 'phoenix_api_url', message: 'is required with phoenix_client_id (no VV_PHOENIX_API_URL default is configured)' }], 'bad_request', 400)
      }
      const now = new Date()
      const phoenix = opts.phoenix
        ? { client_id: opts.phoenix.clientId, api_url: opts.phoenix.apiUrl ?? null, client_secret: secrets.seal(opts.phoenix.clientSecret, phoenixAad(upload.importId)) }
        : null
      const row = await repo.create({
        id: upload.importId, tenant_id: principal.tenantId, status: 'pending', filename: upload.filename,
        file_size_bytes: upload.size, file_sha256: upload.sha256, storage_path: upload.path,
        scanner_type: opts.scannerType, asset_type: opts.assetType ?? null,
        assessment_name: opts.assessmentName ?? defaultAssessmentName(upload.filename, now), import_type: opts.importType,
        options: pgJson({
          enableBatching: opts.enableBatching, fixData: opts.fixData, anonymize: opts.anonymize, justTags: opts.justTags,
          createEmptyAssets: opts.createEmptyAssets, createInventoryAssets: opts.createInventoryAssets,
          maxBatchSize: opts.maxBatchSize, maxPayloadMb: opts.maxPayloadMb,
        }),
        phoenix: phoenix ? pgJson(phoenix) : null,
        webhook_url: opts.webhookUrl ?? null,
        webhook_headers: opts.webhookHeaders ? secrets.seal(JSON.stringify(opts.webhookHeaders), `scan-import:${upload.importId}`) : null,
        created_by: `${principal.kind}:${principal.subject}`, created_at: now, updated_at: now,
      })
      await log(row.id, 'INFO', `File uploaded: ${upload.filename} (${upload.size.toLocaleString('en-US')} bytes, sha256 ${upload.sha256.slice(0, 16)}…)`)
      const job = await jobs.enqueue(SCAN_IMPORT_JOB, { importId: row.id }, { tenantId: principal.tenantId })
      const queued = await repo.transition(row.id, ['pending'], 'queued', { job_id: job.id })
      await audit.record({
        tenantId: principal.tenantId, action: 'scans.upload', outcome: 'success', actorType: principal.kind, actorId: principal.subject,
        resourceType: 'scan_import', resourceId: row.id,
        details: { filename: upload.filename, bytes: upload.size, sha256: upload.sha256, scanner_type: opts.scannerType, import_type: opts.importType },
      })
      return queued ?? row
    },

    async get(tenantId: string, id: string): Promise<JobOut> {
      const row = await repo.get(tenantId, id)
      if (!row) throw new NotFoundError(`Job ${id.slice(0, 64)} not found`, 'not_found')
      return toJob(row)
    },

    async list(tenantId: string, q: JobsQuery) {
      const page = q.page ?? 1
      const pageSize = q.page_size ?? 50
      const { total, rows } = await repo.list(tenantId, { status: q.status, limit: pageSize, offset: (page - 1) * pageSize })
      const ids = rows.map((r) => r.id)
      const [logs, hooks] = await Promise.all([repo.recentLogs(ids, settings.logLines), deps.webhooks.list(tenantId, 'scan_import', ids)])
      return { total, jobs: await Promise.all(rows.map((r) => toJob(r, logs.get(r.id) ?? [], hooks.get(r.id) ?? []))), page, page_size: pageSize }
    },

    /** Pending/queued → cancelled at once; processing → cancelled, and the worker stops at its next step. */
    async cancel(principal: Principal, id: string): Promise<void> {
      const row = await repo.get(principal.tenantId, id)
      if (!row) throw new NotFoundError(`Job ${id.slice(0, 64)} not found`, 'not_found')
      const cancelled = await repo.transition(row.id, ['pending', 'queued', 'processing'], 'cancelled', { completed_at: new Date(), current_step: 'Cancelled' })
      if (!cancelled) throw new AppError(400, 'bad_request', `Cannot cancel job with status ${row.status}`)
      if (row.job_id) await jobs.cancel(row.job_id, principal.tenantId)
      emit(row.id, 'error', { status: 'cancelled', progress: cancelled.progress, error_message: 'Cancelled by user' })
      await notify(cancelled, { status: 'cancelled', success: false, error: 'Cancelled by user' })
      await log(row.id, 'WARNING', `Cancellation requested by ${principal.kind} ${principal.subject}`)
      if (row.status !== 'processing' && row.storage_path) await rm(row.storage_path, { force: true })
      await audit.record({ tenantId: principal.tenantId, action: 'scans.job_cancelled', outcome: 'success', actorType: principal.kind, actorId: principal.subject, resourceType: 'scan_import', resourceId: row.id })
    },

    async health(tenantId: string) {
      const counts = await repo.statusCounts(tenantId)
      const total = Object.values(counts).reduce((a, b) => a + b, 0)
      const runs = settings.runsJobs()
      return {
        workers: { status: runs || settings.redis ? 'healthy' : 'no_local_workers', active_workers: runs ? 1 : 0, max_concurrent_jobs: settings.jobsConcurrency },
        pending_jobs: (counts.pending ?? 0) + (counts.queued ?? 0),
        processing_jobs: counts.processing ?? 0,
        total_jobs: total,
      }
    },
  }
}
export type ScansService = ReturnType<typeof createScansService>
