import type { FastifyInstance } from 'fastify'
import { findingsModule } from './modules/findings/index.js'
import { identityModule } from './modules/identity/index.js'
import { ingestModule } from './modules/ingest/index.js'
import { promptsModule } from './modules/prompts/index.js'
import { scansModule } from './modules/scans/index.js'
import { webhooksModule } from './modules/webhooks/index.js'
import type { Module } from './modules/module.js'
import { registerDocs } from './platform/http/docs.js'
import type { ErrorRenderer } from './platform/http/families.js'
import { createServer } from './platform/http/server.js'
import { systemRoutes } from './platform/http/system.routes.js'
import type { Platform } from './platform/platform.js'

export const MODULES: Module[] = [identityModule, ingestModule, findingsModule, scansModule, promptsModule, webhooksModule]

/** Registers every module's job definitions; each process that enqueues or runs jobs needs them. */
export function registerJobs(platform: Platform, modules: Module[] = MODULES): void {
  for (const m of modules) for (const def of m.jobs?.(platform) ?? []) platform.jobs.register(def)
}

/** Builds the HTTP app: platform plugins first, then every module's routes. */
export async function buildApp(platform: Platform, modules: Module[] = MODULES): Promise<FastifyInstance> {
  registerJobs(platform, modules)
  const families: Record<string, ErrorRenderer> = {}
  for (const m of modules) Object.assign(families, m.errorFamilies?.(platform) ?? {})
  const app = await createServer(platform, { families })
  await registerDocs(app, platform.config.DOCS_ENABLED)
  await app.register(systemRoutes)
  for (const m of modules) await m.register(app)
  await app.ready()
  return app
}
