import type { Module } from '../module.js'
import { renderIngestError } from './ingest.envelope.js'
import { ingestRepository } from './ingest.repository.js'
import { INGEST_FAMILY, INGEST_PREFIX, ingestRoutes } from './ingest.routes.js'
import { createIngestService } from './ingest.service.js'

/** SpectraStrike ingest: specs/ingest-spectrastrike.md. */
export const ingestModule: Module = {
  name: 'ingest',
  errorFamilies: (platform) => ({
    [INGEST_FAMILY]: (err, request, reply) => {
      const r = renderIngestError(err, request, platform.config.SPECTRASTRIKE_SIGNATURE_SECRET)
      reply.code(r.status).type('application/json; charset=utf-8')
      return r.body
    },
  }),
  async register(app) {
    const { platform } = app
    const { config } = platform
    const service = createIngestService({
      repository: ingestRepository(platform.db, platform.audit.chain),
      idempotency: platform.idempotency,
      nonces: platform.nonces,
      audit: platform.audit,
      metrics: platform.metrics,
      logger: platform.logger,
      settings: {
        maxBatchSize: config.SPECTRASTRIKE_MAX_BATCH_SIZE,
        signatureSecret: config.SPECTRASTRIKE_SIGNATURE_SECRET,
        signatureSkewSeconds: config.SPECTRASTRIKE_SIGNATURE_SKEW_SECONDS,
      },
    })
    platform.onClose(() => service.drain())
    await app.register(ingestRoutes, { prefix: INGEST_PREFIX, service })
  },
}
