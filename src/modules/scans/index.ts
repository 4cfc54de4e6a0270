import { Type } from 'typebox'
import { defineJob } from '../../platform/jobs/index.js'
import type { Platform } from '../../platform/platform.js'
import type { Module } from '../module.js'
import { PARSERS } from './parsers/index.js'
import { ParserRegistry } from './parsers/registry.js'
import { SCANS_FAMILY, scansRoutes } from './scans.routes.js'
import { scansWebSocket } from './scans.ws.js'
import { uploadRoot } from './scans.storage.js'
import { scansRepository } from './scans.repository.js'
import { createScansService, SCAN_IMPORT_JOB, type ScansService } from './scans.service.js'

export const registry = new ParserRegistry(PARSERS)

const services = new WeakMap<Platform, ScansService>()

/** One service per platform, shared by the routes, the job handler and the CLI. */
export function serviceFor(platform: Platform): ScansService {
  let s = services.get(platform)
  if (!s) {
    s = createScansService({
      repository: scansRepository(platform.db), jobs: platform.jobs, registry, secrets: platform.secrets, audit: platform.audit,
      metrics: platform.metrics, events: platform.events, webhooks: platform.webhooks, http: platform.http,
      phoenixDefaults: { apiUrl: platform.config.PHOENIX_API_URL, clientId: platform.config.PHOENIX_CLIENT_ID, clientSecret: platform.config.PHOENIX_CLIENT_SECRET },
      logger: platform.logger.child({ module: 'scans' }),
      anonymizeKey: platform.secrets.deriveKey('scans.anonymize'),
      settings: {
        logLines: platform.config.SCANS_LOG_LINES, jobsConcurrency: platform.config.JOBS_CONCURRENCY,
        redis: Boolean(platform.redis), runsJobs: () => platform.jobs.working,
      },
    })
    services.set(platform, s)
  }
  return s
}

/** Scanner file import: specs/scanner-import-phoenix.md. */
export const scansModule: Module = {
  name: 'scans',
  errorFamilies: () => ({
    [SCANS_FAMILY]: (err, _request, reply) => {
      // The spec answers an invalid API key with 403 and a missing one with 401.
      const forbidden = err.code === 'invalid_api_key'
      if (forbidden) reply.code(403)
      return {
        error: forbidden ? 'forbidden' : err.code,
        message: err.message,
        ...(err.details.length > 0 ? { details: { errors: err.details } } : {}),
        timestamp: new Date().toISOString(),
      }
    },
  }),
  jobs: (platform) => [defineJob({
    name: SCAN_IMPORT_JOB,
    queue: 'scans',
    payload: Type.Object({ importId: Type.String({ maxLength: 64 }) }),
    maxAttempts: 3,
    timeoutMs: 30 * 60_000,
    handler: (ctx) => serviceFor(platform).runImport(ctx),
  })],
  async maintenance(platform) {
    const before = new Date(Date.now() - platform.config.SCANS_RETENTION_DAYS * 86_400_000)
    return { scan_imports: await scansRepository(platform.db).purgeFinished(before) }
  },
  async register(app) {
    const { platform } = app
    const { config } = platform
    await app.register(scansRoutes, {
      service: serviceFor(platform), registry,
      uploadDir: uploadRoot(config),
      maxUploadBytes: config.MAX_UPLOAD_MB * 1024 * 1024,
      redisHealthy: async () => {
        if (!platform.redis) return 'not_configured'
        return platform.redis.ping().then(() => 'healthy' as const, () => 'unhealthy' as const)
      },
    })
    await app.register(scansWebSocket, { service: serviceFor(platform), heartbeatMs: config.WS_HEARTBEAT_SECONDS * 1000 })
  },
}
