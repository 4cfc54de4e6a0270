import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { ConfigError, loadConfig, parseDurationSeconds, type SettingName } from './config.js'
import { isRole, isTier, ROLES, TIERS, type Role, type Tier } from './platform/auth/permissions.js'
import { generatePassword } from './platform/auth/passwords.js'
import { AppError } from './platform/errors.js'
import { createPlatform, type Platform } from './platform/platform.js'
import { migrate } from './platform/db/migrate.js'
import { openDatabase } from './platform/db/database.js'
import { startServer } from './server.js'
import { pino } from 'pino'
import { createLogger } from './platform/logger.js'
import { runDemo } from './demo.js'
import { registerJobs } from './app.js'
import { importLocal, importRemote, type ImportOptions } from './modules/scans/scans.cli.js'

/** Secrets and tokens go to stdout alone, so scripts can capture them; everything else to stderr. */
const out = (s: string) => process.stdout.write(`${s}\n`)
const info = (s: string) => process.stderr.write(`${s}\n`)

function config(overrides: Partial<Record<SettingName, string>> = {}) {
  return loadConfig(process.env, overrides)
}

async function withPlatform<T>(fn: (p: Platform) => Promise<T>): Promise<T> {
  const cfg = config({ VV_LOG_LEVEL: process.env.VV_LOG_LEVEL ?? 'warn' })
  // Log lines go to stderr: stdout carries only what a script captures (secrets, ids, JSON results).
  const platform = await createPlatform(cfg, { logger: createLogger(cfg.LOG_LEVEL, pino.destination({ dest: 2, sync: true })) })
  try { return await fn(platform) } finally { await platform.close() }
}

const role = (v: string): Role => {
  if (!isRole(v)) throw new InvalidArgumentError(`unknown role; one of ${ROLES.join(', ')}`)
  return v
}
const tier = (v: string): Tier => {
  if (!isTier(v)) throw new InvalidArgumentError(`unknown tier; one of ${TIERS.join(', ')}`)
  return v
}
const port = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('must be a port number 0-65535')
  return v
}
const ttl = (v: string) => {
  const s = parseDurationSeconds(v)
  if (!s) throw new InvalidArgumentError('must be a duration such as 30m, 1h or 7d')
  return s
}

export function buildCli(): Command {
  const program = new Command('verivault')
    .description('VeriVault — self-hosted, multi-tenant security integration hub.\nConfiguration comes from VV_* environment variables (see .env.example).')
    .showHelpAfterError()

  program.command('serve')
    .description('Run the HTTP API (and, unless --no-workers, the job workers) on VV_HOST:VV_PORT')
    .option('-p, --port <port>', 'port (overrides VV_PORT)', port)
    .option('--host <host>', 'interface (overrides VV_HOST)')
    .option('--no-workers', 'API only: leave jobs to `verivault worker` processes')
    .action(async (o: { port?: string; host?: string; workers: boolean }) => {
      await startServer(config({ ...(o.port ? { VV_PORT: o.port } : {}), ...(o.host ? { VV_HOST: o.host } : {}) }), { workers: o.workers })
    })

  program.command('worker')
    .description('Run job workers only (scale-out with VV_DATABASE_URL and VV_REDIS_URL)')
    .action(async () => {
      const c = config()
      // The embedded database belongs to one process, which runs its own workers (`serve`).
      if (c.embedded) throw new ConfigError('VV_DATABASE_URL', 'is required by `verivault worker`; with the embedded database `verivault serve` runs the workers itself')
      await startServer(c, { workers: true, http: false })
    })

  program.command('migrate')
    .description('Apply pending database migrations and exit')
    .action(async () => {
      const c = config()
      const db = await openDatabase({ url: c.DATABASE_URL, dataDir: c.DATA_DIR })
      try {
        const r = await migrate(db)
        info(r.applied.length > 0 ? `applied: ${r.applied.join(', ')}` : `up to date (version ${r.current ?? 'none'})`)
      } finally { await db.close() }
    })

  const tenants = program.command('tenants').description('Manage tenants')
  tenants.command('create <slug>').description('Create a tenant; prints its id')
    .option('--name <name>', 'display name')
    .action((slug: string, o: { name?: string }) => withPlatform(async (p) => {
      const t = await p.identity.createTenant(slug, o.name)
      await p.audit.record({ tenantId: t.id, action: 'tenant.created', outcome: 'success', actorType: 'system', actorId: 'cli' })
      out(t.id)
    }))
  tenants.command('list').description('List tenants (id, slug, name, created)')
    .option('--json', 'JSON output')
    .action((o: { json?: boolean }) => withPlatform(async (p) => {
      const list = await p.identity.listTenants()
      if (o.json) { out(JSON.stringify(list)); return }
      for (const t of list) out(`${t.id}\t${t.slug}\t${t.name}\t${t.created_at.toISOString()}`)
    }))

  program.command('users').description('Manage users')
    .command('create').description('Create a user; prints the generated password unless --password is given')
    .requiredOption('--tenant <id|slug>', 'tenant')
    .requiredOption('--email <email>', 'e-mail (login name)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--password <password>', 'password (prefer the prompt-free generated one)')
    .action((o: { tenant: string; email: string; role: Role; password?: string }) => withPlatform(async (p) => {
      const t = await p.identity.requireTenant(o.tenant)
      const password = o.password ?? generatePassword()
      const u = await p.identity.createUser(t.id, o.email, o.role, password)
      await p.audit.record({ tenantId: t.id, action: 'user.created', outcome: 'success', actorType: 'system', actorId: 'cli', resourceType: 'user', resourceId: u.id, details: { email: u.email, role: u.role } })
      info(`created user ${u.email} (${u.role}) in tenant ${t.slug}`)
      if (!o.password) out(password)
    }))

  const keys = program.command('keys').description('Manage API keys')
  keys.command('create').description('Create an API key; prints the key (shown once)')
    .requiredOption('--tenant <id|slug>', 'tenant')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--tier <tier>', `prompt-analysis tier: ${TIERS.join(', ')}`, tier)
    .option('--name <name>', 'label')
    .action((o: { tenant: string; role: Role; tier?: Tier; name?: string }) => withPlatform(async (p) => {
      const t = await p.identity.requireTenant(o.tenant)
      const { key, record } = await p.identity.createApiKey(t.id, { role: o.role, tier: o.tier, name: o.name })
      await p.audit.record({ tenantId: t.id, action: 'api_key.created', outcome: 'success', actorType: 'system', actorId: 'cli', resourceType: 'api_key', resourceId: record.prefix, details: { role: record.role, tier: record.tier } })
      info(`created key ${record.prefix} (${record.role}${record.tier ? `, ${record.tier}` : ''}) in tenant ${t.slug}`)
      out(key)
    }))
  keys.command('list').description('List a tenant\'s API keys (prefixes only)')
    .requiredOption('--tenant <id|slug>', 'tenant')
    .action((o: { tenant: string }) => withPlatform(async (p) => {
      const t = await p.identity.requireTenant(o.tenant)
      for (const k of await p.identity.listApiKeys(t.id)) {
        out(`${k.prefix}\t${k.name}\t${k.role}\t${k.tier ?? '-'}\t${k.revoked_at ? 'revoked' : 'active'}\t${k.last_used_at?.toISOString() ?? 'never used'}`)
      }
    }))
  keys.command('revoke <prefix>').description('Revoke an API key by its prefix (vv_xxxxxxxx)')
    .action((prefix: string) => withPlatform(async (p) => {
      const k = await p.identity.revokeApiKey(prefix)
      if (!k) throw new AppError(404, 'api_key_not_found', `No active API key with prefix ${prefix}`)
      await p.audit.record({ tenantId: k.tenant_id, action: 'api_key.revoked', outcome: 'success', actorType: 'system', actorId: 'cli', resourceType: 'api_key', resourceId: prefix })
      info(`revoked ${prefix}`)
    }))

  program.command('token').description('Issue an access token (JWT); prints it')
    .requiredOption('--tenant <id|slug>', 'tenant')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--sub <subject>', 'subject claim', 'cli')
    .option('--tier <tier>', 'prompt-analysis tier', tier)
    .addOption(new Option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 7d (default VV_JWT_ACCESS_TTL)').argParser(ttl))
    .action((o: { tenant: string; role: Role; sub: string; tier?: Tier; ttl?: number }) => withPlatform(async (p) => {
      const t = await p.identity.requireTenant(o.tenant)
      const { token } = await p.tokens.issue({ sub: o.sub, tenantId: t.id, role: o.role, tier: o.tier, ttlSeconds: o.ttl })
      out(token)
    }))

  program.command('audit').description('Audit trail')
    .command('verify').description('Verify the hash chain; exits 1 and names the first broken link if it is broken')
    .option('--tenant <id|slug>', 'only this tenant (default: every tenant)')
    .action((o: { tenant?: string }) => withPlatform(async (p) => {
      const list = o.tenant ? [await p.identity.requireTenant(o.tenant)] : [{ id: '00000000-0000-0000-0000-000000000000', slug: '_system' }, ...await p.identity.listTenants()]
      let broken = 0
      for (const t of list) {
        const r = await p.audit.verify(t.id)
        if (r.ok) info(`ok      ${t.slug}: ${r.entries} entries`)
        else {
          broken++
          out(`BROKEN  ${t.slug}: entry ${r.brokenAt!.seq}: ${r.brokenAt!.reason}`)
        }
      }
      if (broken > 0) process.exitCode = 1
    }))

  program.command('import <file>')
    .description('Import a scanner output file: over the API with --url (or VERIVAULT_URL), else in-process on this database')
    .option('--scanner <type>', 'scanner_type (default: detected from the content)')
    .option('--asset-type <type>', 'asset_type override: INFRA, WEB, CLOUD, CONTAINER, REPOSITORY, CODE, BUILD')
    .option('--import-type <type>', 'new (default), merge or delta')
    .option('--assessment <name>', 'assessment name')
    .option('--anonymize', 'replace hosts, IPs, e-mails, user names and paths with stable pseudonyms')
    .option('--tenant <id|slug>', 'tenant for an in-process import', 'default')
    .option('--url <url>', 'a running VeriVault, e.g. http://localhost:8080 (env VERIVAULT_URL)')
    .option('--api-key <key>', 'API key for --url (env VERIVAULT_API_KEY)')
    .option('--wait', 'follow the job with a progress bar and print it as JSON when it ends (exit 1 unless completed)', false)
    .action(async (file: string, o: ImportOptions) => {
      const url = o.url ?? process.env.VERIVAULT_URL
      if (url) {
        const apiKey = o.apiKey ?? process.env.VERIVAULT_API_KEY
        if (!apiKey) throw new InvalidArgumentError('--api-key (or VERIVAULT_API_KEY) is required with --url')
        process.exitCode = await importRemote(file, { ...o, url, apiKey }, out, info)
        return
      }
      await withPlatform(async (p) => {
        registerJobs(p)
        process.exitCode = await importLocal(p, file, o, out, info)
      })
    })

  program.command('demo').description('Start a throw-away demo server with a seeded tenant, users and keys printed')
    .option('-p, --port <port>', 'port', port)
    .action(async (o: { port?: string }) => {
      const dir = mkdtempSync(join(tmpdir(), 'verivault-demo-'))
      await runDemo(config({ VV_DATA_DIR: dir, VV_ALLOW_PRIVATE_TARGETS: '1', ...(o.port ? { VV_PORT: o.port } : {}) }))
    })

  return program
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv)
  } catch (err) {
    if (err instanceof ConfigError) { info(err.message); process.exitCode = 2; return }
    if (err instanceof AppError) { info(`error: ${err.message}`); process.exitCode = 1; return }
    info(`error: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  }
}
