import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig, type SettingName } from '../../src/config.js'
import type { Role, Tier } from '../../src/platform/auth/permissions.js'
import { createPlatform, type Platform } from '../../src/platform/platform.js'
import { testDatabase } from './db.js'

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123'
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')

export interface TestApp {
  app: FastifyInstance
  platform: Platform
  close(): Promise<void>
}

/**
 * A real app over the worker's shared database. `env` overrides settings (VV_* names). Redis is used when
 * VV_TEST_REDIS_URL is set (CI's second run), as production would with VV_REDIS_URL.
 */
export async function createTestApp(env: Partial<Record<SettingName, string>> = {}): Promise<TestApp> {
  const config = loadConfig({}, {
    VV_JWT_SECRET: TEST_JWT_SECRET,
    VV_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    VV_DATA_DIR: `/tmp/vv-test-${process.pid}`,
    VV_LOG_LEVEL: 'silent',
    VV_ALLOW_PRIVATE_TARGETS: '1',
    // Each test worker has its own database schema, so its jobs must not be dispatched to another worker's queue.
    ...(process.env.VV_TEST_REDIS_URL ? { VV_REDIS_URL: process.env.VV_TEST_REDIS_URL, VV_REDIS_PREFIX: `vv-test-${process.pid}` } : {}),
    ...env,
  })
  const database = await testDatabase()
  const platform = await createPlatform(config, { database, skipMigrations: true, logger: pino({ level: 'silent' }) })
  const app = await buildApp(platform)
  return {
    app, platform,
    async close() { await app.close(); await platform.close() },
  }
}

export interface TestTenant {
  id: string
  slug: string
  token(role?: Role, opts?: { sub?: string; tier?: Tier; ttlSeconds?: number }): Promise<string>
  apiKey(role?: Role, tier?: Tier): Promise<string>
  auth(role?: Role): Promise<{ authorization: string }>
}

/** A fresh tenant with helpers for credentials. */
export async function createTenant(platform: Platform, prefix = 't'): Promise<TestTenant> {
  const slug = `${prefix}-${randomBytes(5).toString('hex')}`
  const tenant = await platform.identity.createTenant(slug)
  const t: TestTenant = {
    id: tenant.id,
    slug,
    async token(role = 'admin', opts = {}) {
      return (await platform.tokens.issue({ sub: opts.sub ?? `user-${role}`, tenantId: tenant.id, role, tier: opts.tier, ttlSeconds: opts.ttlSeconds })).token
    },
    async apiKey(role = 'admin', tier) {
      return (await platform.identity.createApiKey(tenant.id, { role, tier })).key
    },
    async auth(role = 'admin') { return { authorization: `Bearer ${await t.token(role)}` } },
  }
  return t
}
