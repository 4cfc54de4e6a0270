import { rm } from 'node:fs/promises'
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { AppError, BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../platform/errors.js'
import type { ParserRegistry } from './parsers/registry.js'
import { parseUploadForm } from './scans.form.js'
import {
  authErrors, Health, Job, JobList, JobParams, JobsQuery, PhoenixError, Ping, UploadAccepted, UploadForm,
} from './scans.schemas.js'
import { newImportId, type ScansService } from './scans.service.js'
import { storeUpload, uploadPath } from './scans.storage.js'

export const SCANS_FAMILY = 'phoenix'
const TAG = 'Scanner import'
const VERSION = '0.1.0'

export interface ScansRoutesOptions {
  service: ScansService
  registry: ParserRegistry
  uploadDir: string
  maxUploadBytes: number
  redisHealthy: () => Promise<'healthy' | 'unhealthy' | 'not_configured'>
}

/** Multipart errors of @fastify/multipart / busboy, in our terms. */
function uploadError(err: unknown, maxBytes: number): AppError {
  if (err instanceof AppError) return err
  const code = (err as { code?: string }).code
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new PayloadTooLargeError(`File exceeds the maximum upload size of ${Math.round(maxBytes / 1048576)} MB (VV_MAX_UPLOAD_MB)`)
    case 'FST_FILES_LIMIT':
      return new BadRequestError('Send exactly one file, in the form field "file"')
    case 'FST_FIELDS_LIMIT': case 'FST_PARTS_LIMIT':
      return new BadRequestError('Too many form fields')
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new UnsupportedMediaTypeError('Send the file as multipart/form-data')
  }
  const message = (err as Error).message ?? ''
  if (/Unexpected end of (form|multipart)|Malformed part header|Multipart: Boundary not found/i.test(message)) {
    return new BadRequestError(`Malformed multipart body: ${message}`)
  }
  if (/field value too long|fieldSize/i.test(message)) return new BadRequestError('A form field is longer than 64 KiB')
  return new BadRequestError(`The upload could not be read: ${message}`)
}

function websocketUrl(request: FastifyRequest, id: string): string {
  const scheme = request.protocol === 'https' ? 'wss' : 'ws'
  return `${scheme}://${request.host}/ws/${id}`
}

export async function scansRoutes(app: FastifyInstance, opts: ScansRoutesOptions) {
  const { service, registry, maxUploadBytes } = opts
  await app.register(multipart, {
    limits: { fileSize: maxUploadBytes, files: 1, fields: 40, parts: 42, fieldSize: 64 * 1024, headerPairs: 200 },
    throwFileSizeLimit: true,
  })
  // Any other body reaches the handler unread, which answers 415 naming multipart/form-data (instead of the
  // platform's generic JSON hint).
  app.addContentTypeParser('*', (_request, _payload, done) => { done(null, undefined) })
  const common = { family: SCANS_FAMILY } as const

  app.post('/api/v1/upload', {
    config: { ...common, auth: { permission: 'scans:write' } },
    schema: {
      summary: 'Upload a scanner output file',
      description: 'Multipart form upload. The file is streamed to storage (at most VV_MAX_UPLOAD_MB, enforced while streaming) and an import job is queued. '
        + 'The scanner is detected from the content unless `scanner_type` names it. Follow the job with GET /api/v1/jobs/{job_id} or WS /ws/{job_id}.',
      tags: [TAG],
      consumes: ['multipart/form-data'],
      body: UploadForm,
      response: {
        202: { ...UploadAccepted, description: 'Accepted: the job is queued.' },
        400: { ...PhoenixError, description: '`bad_request`: a form field is invalid (details.errors names each), the file is missing, or the body is not a well-formed multipart form.' },
        ...authErrors,
        413: { ...PhoenixError, description: '`payload_too_large`: the file exceeds VV_MAX_UPLOAD_MB.' },
        415: { ...PhoenixError, description: '`unsupported_media_type`: send multipart/form-data.' },
      },
    },
    // The multipart body is read in the handler (streamed); the schema documents it.
    validatorCompiler: () => (data: unknown) => ({ value: data }),
  }, async (request, reply) => {
    if (!request.isMultipart()) throw new UnsupportedMediaTypeError('Send the file as multipart/form-data with the form field "file"')
    const principal = request.principal!
    const importId = newImportId()
    const path = uploadPath(opts.uploadDir, principal.tenantId, importId)
    const fields: Record<string, string> = {}
    let file: { filename: string; size: number; sha256: string } | undefined
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file') throw new BadRequestError(`Unexpected file in form field "${part.fieldname.slice(0, 40)}": send the file as "file"`)
          const stored = await storeUpload(part.file, path)
          if (part.file.truncated) throw uploadError({ code: 'FST_REQ_FILE_TOO_LARGE' }, maxUploadBytes)
          const filename = (part.filename || 'upload').replace(/[\\/]/g, '_').replace(/[\u0000-\u001f]/g, '').slice(0, 255) || 'upload'
          file = { filename, ...stored }
        } else {
          if (part.fieldname in fields) throw new BadRequestError(`Form field "${part.fieldname.slice(0, 40)}" is given twice`)
          fields[part.fieldname] = String(part.value ?? '')
        }
      }
      if (!file) throw new BadRequestError('No file uploaded: send the scanner output in the form field "file"')
      if (file.size === 0) throw new BadRequestError('The uploaded file is empty')
      const options = parseUploadForm(fields, registry)
      const row = await service.accept(principal, { importId, path, ...file }, options)
      request.outcome = 'accepted'
      return reply.code(202).send({
        job_id: row.id, status: row.status,
        message: 'File uploaded successfully. Job queued for processing.',
        created_at: row.created_at.toISOString(), websocket_url: websocketUrl(request, row.id),
      })
    } catch (err) {
      await rm(path, { force: true })
      throw uploadError(err, maxUploadBytes)
    }
  })

  app.get('/api/v1/jobs/:job_id', {
    config: { ...common, auth: { permission: 'scans:read' } },
    schema: {
      summary: 'Get an import job', tags: [TAG],
      description: 'Status, progress, counts and the newest log lines of one import job of the caller\'s tenant.',
      params: JobParams,
      response: { 200: Job, 404: { ...PhoenixError, description: '`not_found`: no such job in this tenant.' }, ...authErrors },
    },
  }, async (request) => service.get(request.principal!.tenantId, (request.params as { job_id: string }).job_id))

  app.get('/api/v1/jobs', {
    config: { ...common, auth: { permission: 'scans:read' } },
    schema: {
      summary: 'List import jobs', tags: [TAG],
      description: 'The caller\'s tenant\'s import jobs, newest first; filter by status; `page_size` at most 100.',
      querystring: JobsQuery,
      response: { 200: JobList, 400: { ...PhoenixError, description: '`validation_failed`: a bad query parameter (named).' }, ...authErrors },
    },
  }, async (request) => service.list(request.principal!.tenantId, request.query as never))

  app.delete('/api/v1/jobs/:job_id', {
    config: { ...common, auth: { permission: 'scans:write' } },
    schema: {
      summary: 'Cancel an import job', tags: [TAG],
      description: 'Cancels a pending, queued or processing job (a processing job stops at its next step; what it stored stays).',
      params: JobParams,
      response: {
        204: Type.Null({ description: 'Cancelled.' }),
        400: { ...PhoenixError, description: '`bad_request`: the job already finished ("Cannot cancel job with status completed").' },
        404: { ...PhoenixError, description: '`not_found`: no such job in this tenant.' },
        ...authErrors,
      },
    },
  }, async (request, reply) => {
    await service.cancel(request.principal!, (request.params as { job_id: string }).job_id)
    return reply.code(204).send()
  })

  app.get('/api/v1/health', {
    config: { ...common, auth: { permission: 'scans:read' } },
    schema: {
      summary: 'Scanner service health', tags: [TAG],
      description: 'Workers and queue of the import service; counts are the caller\'s tenant\'s jobs.',
      response: { 200: Health, ...authErrors },
    },
  }, async (request) => {
    const [h, redis] = await Promise.all([service.health(request.principal!.tenantId), opts.redisHealthy()])
    const status = redis === 'unhealthy' ? 'degraded' : 'healthy'
    return {
      status, version: VERSION, timestamp: new Date().toISOString(), workers: h.workers,
      queue: { redis_status: redis, pending_jobs: h.pending_jobs, processing_jobs: h.processing_jobs, total_jobs: h.total_jobs },
    }
  })

  app.get('/api/v1/ping', {
    config: { ...common },
    schema: { summary: 'Ping', description: 'Connectivity test; no authentication.', tags: [TAG], response: { 200: Ping } },
  }, async () => ({ status: 'ok' as const, timestamp: new Date().toISOString() }))
}
