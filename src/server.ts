import type { FastifyInstance } from 'fastify'
import { buildApp, MODULES, registerJobs } from './app.js'
import type { Config } from './config.js'
import { bootstrapFirstRun } from './platform/bootstrap.js'
import { createPlatform, type Platform } from './platform/platform.js'
import { purgeFinishedJobs } from './platform/jobs/index.js'

export interface StartOptions {
  /** Serve HTTP (false for `verivault worker`). */
  http?: boolean
  /** Run job workers and periodic maintenance in this process. */
  workers?: boolean
  /** Print the first-run banner (default true). */
  announce?: boolean
}

export interface Running { platform: Platform; app?: FastifyInstance; url?: string; stop(): Promise<void> }

const MAINTENANCE_EVERY_MS = 10 * 60_000
/** Finished jobs are kept this long for their results and history. */
const JOB_RETENTION_DAYS = 30

/** Starts VeriVault: migrate, bootstrap on first run, HTTP, workers; stops cleanly on SIGINT/SIGTERM. */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<Running> {
  const platform = await createPlatform(config)
  const log = platform.logger
  const boot = await bootstrapFirstRun(platform)
  if (boot.created && opts.announce !== false) {
    const lines = [
      'VeriVault first start: created tenant "default" and its admin user.',
      `  tenant:   ${boot.tenantSlug}`,
      `  e-mail:   ${boot.email}`,
      boot.generatedPassword ? `  password: ${boot.generatedPassword}   (shown once — store it now)` : '  password: from VV_BOOTSTRAP_ADMIN_PASSWORD',
    ]
    process.stderr.write(`\n${lines.join('\n')}\n\n`)
  }

  let app: FastifyInstance | undefined
  let url: string | undefined
  if (opts.http !== false) {
    app = await buildApp(platform)
    url = await app.listen({ port: config.PORT, host: config.HOST })
    log.info({ url, workers: opts.workers !== false }, 'VeriVault listening')
  }

  if (opts.http === false) registerJobs(platform)   // `verivault worker` never builds the HTTP app
  let maintenance: NodeJS.Timeout | undefined
  if (opts.workers !== false) {
    await platform.jobs.start({ concurrency: config.JOBS_CONCURRENCY })
    const purge = async () => {
      const [nonces, keys, jobs, webhooks, ...modules] = await Promise.all([
        platform.nonces.purgeExpired(), platform.idempotency.purgeExpired(),
        purgeFinishedJobs(platform.db, new Date(Date.now() - JOB_RETENTION_DAYS * 86_400_000)),
        platform.webhooks.purgeFinished(new Date(Date.now() - JOB_RETENTION_DAYS * 86_400_000)),
        ...MODULES.map((m) => m.maintenance?.(platform) ?? Promise.resolve({})),
      ])
      const counts: Record<string, number> = Object.assign({ nonces, idempotency_keys: keys, jobs: Number(jobs), webhook_deliveries: webhooks }, ...modules)
      if (Object.values(counts).some((n) => n > 0)) log.info(counts, 'purged expired entries')
    }
    maintenance = setInterval(() => { purge().catch((err: unknown) => log.warn({ err }, 'maintenance failed')) }, MAINTENANCE_EVERY_MS)
    maintenance.unref()
  }

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      if (maintenance) clearInterval(maintenance)
      if (app) await app.close()
      // Running jobs get most of a typical 30 s termination grace period; unfinished ones resume elsewhere.
      await platform.jobs.stop({ timeoutMs: 25_000 })
      await platform.close()
    })()
    return stopping
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down')
      stop().then(() => process.exit(0), () => process.exit(1))
    })
  }
  return { platform, app, url, stop }
}
