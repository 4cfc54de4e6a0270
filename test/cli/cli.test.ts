import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

const dataDir = mkdtempSync(join(tmpdir(), 'vv-cli-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const cli = (args: string[], env: Record<string, string> = {}) => runCli(dataDir, args, env)

describe('verivault CLI', () => {
  it('creates a tenant, a user, a key and a token, printing each secret alone on stdout', async () => {
    const tenant = await cli(['tenants', 'create', 'acme', '--name', 'Acme Corp'])
    expect(tenant.code).toBe(0)
    expect(tenant.stdout).toMatch(/^[0-9a-f-]{36}\n$/)
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, 'encryption-key')).mode & 0o777).toBe(0o600)

    const user = await cli(['users', 'create', '--tenant', 'acme', '--email', 'sec@acme.test', '--role', 'security_engineer'])
    expect(user.code).toBe(0)
    expect(user.stdout).toMatch(/^[A-Za-z0-9]{20}\n$/)

    const key = await cli(['keys', 'create', '--tenant', 'acme', '--role', 'analyst', '--tier', 'professional', '--name', 'bot'])
    expect(key.code).toBe(0)
    expect(key.stdout).toMatch(/^vv_[0-9a-f]{8}_[A-Za-z0-9_-]{43}\n$/)

    const token = await cli(['token', '--tenant', tenant.stdout.trim(), '--role', 'analyst', '--sub', 'ci', '--ttl', '5m'])
    expect(token.code).toBe(0)
    const [, payload] = token.stdout.trim().split('.')
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    expect(claims).toMatchObject({ tenant_id: tenant.stdout.trim(), role: 'analyst', sub: 'ci', iss: 'verivault', aud: 'verivault' })
    expect(claims.exp - claims.iat).toBe(300)

    const list = await cli(['keys', 'list', '--tenant', 'acme'])
    const prefix = key.stdout.slice(0, 11)
    expect(list.stdout).toContain(`${prefix}\tbot\tanalyst\tprofessional\tactive`)
    const revoke = await cli(['keys', 'revoke', prefix])
    expect(revoke.code).toBe(0)
    expect((await cli(['keys', 'list', '--tenant', 'acme'])).stdout).toContain(`${prefix}\tbot\tanalyst\tprofessional\trevoked`)
    const again = await cli(['keys', 'revoke', prefix])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('No active API key')

    const tenants = await cli(['tenants', 'list'])
    expect(tenants.stdout).toContain('\tacme\tAcme Corp\t')
    const verify = await cli(['audit', 'verify', '--tenant', 'acme'])
    expect(verify.code).toBe(0)
    expect(verify.stderr).toMatch(/ok\s+acme: 4 entries/)
    // Eleven CLI processes, each opening the embedded database (5 s alone here, up to 15 s with the other test worker busy).
  }, 240_000)

  it('refuses bad arguments and bad configuration with a message naming them', async () => {
    const role = await cli(['keys', 'create', '--tenant', 'acme', '--role', 'wizard'])
    expect(role.code).not.toBe(0)
    expect(role.stderr).toContain('unknown role')
    const cfg = await cli(['tenants', 'list'], { VV_PORT: 'abc' })
    expect(cfg.code).toBe(2)
    expect(cfg.stderr).toContain('VV_PORT must be a whole number')
    const worker = await cli(['worker'])
    expect(worker.code).toBe(2)
    expect(worker.stderr).toContain('VV_DATABASE_URL is required by `verivault worker`')
    const missing = await cli(['token', '--tenant', 'nope', '--role', 'admin'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('Tenant "nope" not found')
  }, 120_000)
})
