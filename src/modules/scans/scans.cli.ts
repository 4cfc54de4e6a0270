/**
 * `verivault import <file>`: against a running server (--url and --api-key, or VERIVAULT_URL / VERIVAULT_API_KEY) over
 * the upload API, or in-process on this machine's database. Progress goes to stderr (a bar on a terminal, log lines
 * otherwise); stdout gets the job id, or with --wait the final job as JSON, so scripts can use it.
 */
import { createReadStream, openAsBlob } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { SingleBar, Presets } from 'cli-progress'
import type { Platform } from '../../platform/platform.js'
import { parseUploadForm } from './scans.form.js'
import { FINISHED_STATUSES, type JobOut } from './scans.schemas.js'
import { newImportId } from './scans.service.js'
import { storeUpload, uploadPath, uploadRoot } from './scans.storage.js'
import { registry, serviceFor } from './index.js'

export interface ImportOptions {
  scanner?: string
  assetType?: string
  importType?: string
  assessment?: string
  tenant: string
  url?: string
  apiKey?: string
  wait: boolean
  anonymize?: boolean
}

/** The upload form fields the options stand for (sent over HTTP, or checked like an upload in-process). */
function formFields(o: ImportOptions): Record<string, string> {
  const fields: Record<string, string> = {}
  if (o.scanner) fields.scanner_type = o.scanner
  if (o.assetType) fields.asset_type = o.assetType
  if (o.importType) fields.import_type = o.importType
  if (o.assessment) fields.assessment_name = o.assessment
  if (o.anonymize) fields.anonymize = 'true'
  return fields
}

/** Shows a job's progress until it ends; returns the final job. */
async function follow(read: () => Promise<JobOut>, info: (s: string) => void): Promise<JobOut> {
  const bar = process.stderr.isTTY ? new SingleBar({ format: ' {bar} {percentage}% | {step}', hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined
  bar?.start(100, 0, { step: 'queued' })
  let lastStep = ''
  for (;;) {
    const job = await read()
    const step = job.current_step ?? job.status
    bar?.update(Math.floor(job.progress), { step })
    if (!bar && step !== lastStep) info(`${Math.floor(job.progress)}% ${step}`)
    lastStep = step
    if (FINISHED_STATUSES.has(job.status)) {
      bar?.stop()
      return job
    }
    await new Promise((r) => setTimeout(r, 300))
  }
}

function summary(job: JobOut): string {
  if (job.status === 'completed') {
    return `${job.filename}: ${job.scanner_type}, ${job.assets_imported} assets, ${job.vulnerabilities_imported} findings `
      + `(${job.findings_new} new, ${job.findings_updated} known, ${job.findings_closed} closed)`
  }
  return `${job.filename}: ${job.status}${job.error_message ? ` — ${job.error_message}` : ''}`
}

/** Over HTTP to a running server. */
export async function importRemote(file: string, o: ImportOptions, out: (s: string) => void, info: (s: string) => void): Promise<number> {
  const base = o.url!.replace(/\/+$/, '')
  const headers = { 'x-api-key': o.apiKey! }
  const form = new FormData()
  for (const [k, v] of Object.entries(formFields(o))) form.append(k, v)
  // openAsBlob streams the file from disk instead of reading it into memory.
  form.append('file', await openAsBlob(file), basename(file))
  const res = await fetch(`${base}/api/v1/upload`, { method: 'POST', headers, body: form })
  const body = await res.json().catch(() => ({})) as { job_id?: string; message?: string; details?: unknown }
  if (res.status !== 202 || !body.job_id) {
    info(`upload failed: HTTP ${res.status} ${body.message ?? ''}${body.details ? ` ${JSON.stringify(body.details)}` : ''}`)
    return 1
  }
  info(`uploaded ${basename(file)} as ${body.job_id}`)
  if (!o.wait) {
    out(body.job_id)
    return 0
  }
  const job = await follow(async () => {
    const r = await fetch(`${base}/api/v1/jobs/${body.job_id}`, { headers })
    if (!r.ok) throw new Error(`GET /api/v1/jobs/${body.job_id}: HTTP ${r.status}`)
    return await r.json() as JobOut
  }, info)
  info(summary(job))
  out(JSON.stringify(job))
  return job.status === 'completed' ? 0 : 1
}

/** In this process, on the configured database: the job runs here when --wait, else a server's workers take it. */
export async function importLocal(platform: Platform, file: string, o: ImportOptions, out: (s: string) => void, info: (s: string) => void): Promise<number> {
  const options = parseUploadForm(formFields(o), registry)
  const tenant = await platform.identity.requireTenant(o.tenant)
  const size = (await stat(file)).size
  if (size === 0) {
    info('error: the file is empty')
    return 1
  }
  const importId = newImportId()
  const path = uploadPath(uploadRoot(platform.config), tenant.id, importId)
  const stored = await storeUpload(createReadStream(file), path)
  const service = serviceFor(platform)
  const row = await service.accept(
    { kind: 'user', tenantId: tenant.id, tenantSlug: tenant.slug, role: 'admin', subject: 'cli' },
    { importId, filename: basename(file), ...stored, path },
    options,
  )
  info(`queued ${basename(file)} as ${row.id} in tenant ${tenant.slug}`)
  if (!o.wait) {
    out(row.id)
    return 0
  }
  await platform.jobs.start({ concurrency: 1 })
  const job = await follow(() => service.get(tenant.id, row.id), info)
  info(summary(job))
  out(JSON.stringify(job))
  return job.status === 'completed' ? 0 : 1
}
