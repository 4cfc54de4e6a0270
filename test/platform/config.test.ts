import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, renderConfigTable, renderEnvExample, settings } from '../../src/config.js'

describe('configuration', () => {
  it('has defaults for an embedded install', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', DATA_DIR: './data', embedded: true, MAX_BODY_MB: 10, CLIENT_RATE_LIMIT: 600, JWT_ACCESS_TTL: 3600 })
  })

  it.each([
    [{ VV_PORT: 'eighty' }, 'VV_PORT must be a whole number'],
    [{ VV_PORT: '70000' }, 'VV_PORT must be between 0 and 65535'],
    [{ VV_REQUIRE_HTTPS: 'maybe' }, 'VV_REQUIRE_HTTPS must be 1/0'],
    [{ VV_LOG_LEVEL: 'loud' }, 'VV_LOG_LEVEL must be one of'],
    [{ VV_DATABASE_URL: 'mysql://x' }, 'VV_DATABASE_URL must use postgres:'],
    [{ VV_JWT_SECRET: 'short' }, 'VV_JWT_SECRET must be at least 32'],
    [{ VV_JWT_ACCESS_TTL: 'forever' }, 'VV_JWT_ACCESS_TTL must be a duration'],
    [{ VV_ENCRYPTION_KEY: 'abc' }, 'VV_ENCRYPTION_KEY must be 32 bytes'],
    [{ VV_JWT_JWKS_URL: 'https://idp/jwks' }, 'VV_JWT_JWKS_URL needs VV_JWT_ISSUER'],
    [{ VV_DATABASE_URL: 'postgres://h/db' }, 'VV_JWT_SECRET is required when VV_DATABASE_URL'],
    [{ VV_PROT: '1' }, 'VV_PROT is not a known setting'],
  ])('stops on %o naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  it('parses booleans, durations and server mode', () => {
    const c = loadConfig({ VV_REQUIRE_HTTPS: 'yes', VV_JWT_ACCESS_TTL: '15m', VV_DATABASE_URL: 'postgres://h/db', VV_JWT_SECRET: 's'.repeat(32), VV_ENCRYPTION_KEY: 'a'.repeat(64) })
    expect(c).toMatchObject({ REQUIRE_HTTPS: true, JWT_ACCESS_TTL: 900, embedded: false })
  })

  it('keeps .env.example and the README table in step with the declarations', () => {
    expect(readFileSync('.env.example', 'utf8')).toBe(renderEnvExample())
    const readme = readFileSync('README.md', 'utf8')
    expect(readme).toContain(renderConfigTable())
    for (const name of Object.keys(settings)) expect(readme).toContain(`\`${name}\``)
  })
})
