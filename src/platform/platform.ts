import { Redis } from 'ioredis'
import { createWebhookService, type WebhookService } from './webhooks.js'
import { createLocalEventBus, createRedisEventBus, type EventBus } from './events.js'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { createAuditService, type AuditService } from './audit.js'
import { createAuthenticator, type Authenticator } from './auth/authenticator.js'
import { identityRepository, type IdentityRepository } from './auth/identity.repository.js'
import { createTokenService, type TokenService } from './auth/tokens.js'
import { openDatabase, type Database, type DatabaseHandle } from './db/database.js'
import { migrate } from './db/migrate.js'
import { localSecret } from './local-secrets.js'
import { createLogger } from './logger.js'
import { createMetrics, type Metrics } from './metrics.js'
import { createNonceStore, type NonceStore } from './nonces.js'
import { createIdempotencyService, type IdempotencyService } from './idempotency.js'
import { createSecretBox, resolveEncryptionKey, type SecretBox } from './crypto/secret-box.js'
import { createHttpClient, type HttpClient } from './http-client/index.js'
import { createJobQueue, type JobQueue } from './jobs/index.js'

/**
 * Every shared service, built once per process from the config. Modules receive the parts they need;
 * nothing here knows about HTTP.
 */
export interface Platform {
  readonly config: Config
  readonly database: DatabaseHandle
  readonly db: Database
  readonly logger: Logger
  readonly metrics: Metrics
  readonly audit: AuditService
  readonly identity: IdentityRepository
  readonly tokens: TokenService
  readonly authenticator: Authenticator
  readonly nonces: NonceStore
  readonly idempotency: IdempotencyService
  readonly redis: Redis | undefined
  /** Outgoing Standard Webhooks: per-tenant signing secret, queued deliveries with recorded attempts. */
  readonly webhooks: WebhookService
  /** Live event fan-out across processes (Redis pub/sub, or in-process without Redis). */
  readonly events: EventBus
  /** AES-256-GCM for secrets at rest (connector credentials, webhook secrets, provider keys). */
  readonly secrets: SecretBox
  /** The one outbound HTTP client: SSRF guard, timeouts, retries honouring Retry-After, per-host limits. */
  readonly http: HttpClient
  /** Durable jobs: BullMQ with VV_REDIS_URL, in-process otherwise; state rows in Postgres either way. */
  readonly jobs: JobQueue
  /** Hooks run by close(), last registered first. */
  onClose(fn: () => Promise<void> | void): void
  close(): Promise<void>
}

export interface PlatformOptions {
  /** Use an already-open database (tests share one per worker); it is not closed by close(). */
  database?: DatabaseHandle
  logger?: Logger
  /** Skip migrations (the caller ran them). */
  skipMigrations?: boolean
}

export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL)
  const closers: (() => Promise<void> | void)[] = []
  // Resolved first so a bad or unreadable key stops start-up before anything else opens.
  const secrets = createSecretBox(resolveEncryptionKey(config))
  const http = createHttpClient({
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS,
    timeoutMs: config.HTTP_TIMEOUT_MS,
    maxRetries: config.HTTP_MAX_RETRIES,
    logger: logger.child({ component: 'http-client' }),
  })
  closers.push(() => http.close())
  const database = opts.database ?? await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE })
  if (!opts.database) closers.push(() => database.close())
  if (!opts.skipMigrations) {
    const res = await migrate(database)
    if (res.applied.length > 0) logger.info({ applied: res.applied }, 'database migrated')
  }

  const jwtSecret = config.JWT_SECRET ?? localSecret(config.DATA_DIR, 'jwt-secret')
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false }) : undefined
  if (redis) {
    redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'))
    closers.push(async () => { await redis.quit().catch(() => redis.disconnect()) })
  }

  const metrics = createMetrics()
  const audit = createAuditService(database.db)
  const identity = identityRepository(database.db)
  const tokens = createTokenService({
    secret: jwtSecret, accessTtlSeconds: config.JWT_ACCESS_TTL, jwksUrl: config.JWT_JWKS_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE,
  })
  const authenticator = createAuthenticator(identity, tokens)
  closers.push(() => authenticator.close())
  closers.push(() => audit.drain())
  // Closed before the audit drain and the database (closers run last-registered first).
  const jobs = createJobQueue(database.db, { redisUrl: config.REDIS_URL, prefix: config.REDIS_PREFIX, logger: logger.child({ component: 'jobs' }) })
  closers.push(() => jobs.stop())
  const events = redis ? createRedisEventBus(redis, config.REDIS_PREFIX, logger.child({ component: 'events' })) : createLocalEventBus()
  closers.push(() => events.close())
  const webhooks = createWebhookService({ db: database.db, secrets, jobs, http, logger: logger.child({ component: 'webhooks' }) })
  jobs.register(webhooks.job)
  const nonces = createNonceStore(database.db, redis)
  const idempotency = createIdempotencyService(database.db, config.IDEMPOTENCY_TTL_HOURS)

  return {
    config, database, db: database.db, logger, metrics, audit, identity, tokens, authenticator, nonces, idempotency, redis, secrets, http, jobs, events, webhooks,
    onClose(fn) { closers.push(fn) },
    async close() {
      for (const fn of closers.splice(0).reverse()) {
        try { await fn() } catch (err) { logger.warn({ err }, 'error while closing') }
      }
    },
  }
}
