import type { Platform } from '../../platform/platform.js'
import type { Module } from '../module.js'
import { promptsRepository } from './prompts.repository.js'
import { promptsRoutes, renderSecureVectorError, SECUREVECTOR_FAMILY } from './prompts.routes.js'
import { createPromptsService, type PromptsService } from './prompts.service.js'

const services = new WeakMap<Platform, PromptsService>()

/** One service (and so one engine) per platform. */
export function promptsServiceFor(platform: Platform): PromptsService {
  let s = services.get(platform)
  if (!s) {
    const { config } = platform
    s = createPromptsService({
      repository: promptsRepository(platform.db), metrics: platform.metrics, events: platform.events, audit: platform.audit,
      logger: platform.logger.child({ module: 'prompts' }),
      settings: { threshold: config.PROMPT_THRESHOLD, logMode: config.PROMPT_LOG as 'off' | 'metadata' | 'full' },
    })
    services.set(platform, s)
  }
  return s
}

/** Prompt threat analysis: specs/prompt-analysis-securevector.md. */
export const promptsModule: Module = {
  name: 'prompts',
  errorFamilies: (platform) => ({
    [SECUREVECTOR_FAMILY]: (err, _request, reply) => {
      // The spec knows no 422: a body that fails validation is a 400 here.
      if (err.statusCode === 422) reply.code(400)
      const body = renderSecureVectorError(err, platform.config.PROMPT_MAX_BODY_BYTES)
      if (err.statusCode === 422) body.status = 400
      return body
    },
  }),
  async maintenance(platform) {
    const before = new Date(Date.now() - platform.config.PROMPT_LOG_RETENTION_DAYS * 86_400_000)
    return { prompt_analyses: await promptsRepository(platform.db).purgeAnalyses(before) }
  },
  async register(app) {
    const { platform } = app
    const { config } = platform
    const service = promptsServiceFor(platform)
    app.addHook('onClose', async () => { await service.close() })
    await app.register(promptsRoutes, {
      service,
      maxBatch: config.PROMPT_MAX_BATCH,
      maxBodyBytes: config.PROMPT_MAX_BODY_BYTES,
      rateLimits: { community: config.PROMPT_RATE_LIMIT_COMMUNITY, professional: config.PROMPT_RATE_LIMIT_PROFESSIONAL, enterprise: config.PROMPT_RATE_LIMIT_ENTERPRISE },
      logMode: config.PROMPT_LOG,
    })
  },
}
