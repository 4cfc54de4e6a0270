/**
 * Every VV_* setting, declared once. `loadConfig` parses and validates them at boot; `.env.example` and the
 * README's configuration table are generated from the same declarations (`npm run docs:config`), and a test
 * keeps them in step.
 */

type Kind = 'string' | 'int' | 'bool' | 'enum' | 'url' | 'secret' | 'duration'

interface SettingBase {
  kind: Kind
  doc: string
  /** Example value for .env.example when there is no default. */
  example?: string
}
interface StringSetting extends SettingBase { kind: 'string' | 'secret'; default?: string }
interface UrlSetting extends SettingBase { kind: 'url'; default?: string; protocols: string[] }
interface IntSetting extends SettingBase { kind: 'int'; default: number; min: number; max: number; clamp?: boolean }
interface BoolSetting extends SettingBase { kind: 'bool'; default: boolean }
interface EnumSetting extends SettingBase { kind: 'enum'; default: string; values: readonly string[] }
interface DurationSetting extends SettingBase { kind: 'duration'; default: string }
type Setting = StringSetting | UrlSetting | IntSetting | BoolSetting | EnumSetting | DurationSetting

export const settings = {
  VV_HOST: { kind: 'string', default: '127.0.0.1', doc: 'Interface the HTTP server binds to (0.0.0.0 for all).' },
  VV_PORT: { kind: 'int', default: 8080, min: 0, max: 65535, doc: 'HTTP port.' },
  VV_DATA_DIR: { kind: 'string', default: './data', doc: 'Directory for the embedded database (PGlite) and generated keys.' },
  VV_DATABASE_URL: {
    kind: 'url', protocols: ['postgres:', 'postgresql:'], example: 'postgres://verivault@127.0.0.1:5432/verivault',
    doc: 'PostgreSQL server to use instead of the embedded PGlite database.',
  },
  VV_DATABASE_POOL_SIZE: { kind: 'int', default: 10, min: 1, max: 200, doc: 'Connections per process to VV_DATABASE_URL.' },
  VV_REDIS_URL: {
    kind: 'url', protocols: ['redis:', 'rediss:'], example: 'redis://127.0.0.1:6379',
    doc: 'Redis for BullMQ jobs, shared rate-limit counters and replay nonces. Without it, in-process equivalents are used.',
  },
  VV_REDIS_PREFIX: { kind: 'string', default: 'verivault', doc: 'Prefix of the job queues\' keys in Redis (BullMQ), so that several deployments can share one Redis.' },
  VV_LOG_LEVEL: { kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: 'pino log level.' },
  VV_JWT_SECRET: {
    kind: 'secret', example: 'change-me-to-32+-random-bytes',
    doc: 'HS256 secret for VeriVault-issued tokens (at least 32 characters). Generated into the data dir when unset in embedded mode; required with VV_DATABASE_URL.',
  },
  VV_JWT_ACCESS_TTL: { kind: 'duration', default: '1h', doc: 'Lifetime of access tokens issued by /api/v1/auth/token and `verivault token` (e.g. 15m, 1h, 7d).' },
  VV_JWT_JWKS_URL: {
    kind: 'url', protocols: ['https:', 'http:'], example: 'https://idp.example.com/.well-known/jwks.json',
    doc: 'JWKS of an external identity provider whose RS256/ES256/PS256/EdDSA tokens are accepted.',
  },
  VV_JWT_ISSUER: { kind: 'string', example: 'https://idp.example.com/', doc: 'Required `iss` of external IdP tokens (required with VV_JWT_JWKS_URL).' },
  VV_JWT_AUDIENCE: { kind: 'string', example: 'verivault', doc: 'Required `aud` of external IdP tokens (required with VV_JWT_JWKS_URL).' },
  VV_ENCRYPTION_KEY: {
    kind: 'secret', example: 'base64-of-32-random-bytes',
    doc: 'AES-256-GCM key for secrets at rest: 32 bytes as base64 or 64 hex characters. Generated into the data dir when unset in embedded mode; required with VV_DATABASE_URL.',
  },
  VV_BOOTSTRAP_ADMIN_EMAIL: { kind: 'string', default: 'admin@verivault.local', doc: 'E-mail of the admin user created on first start.' },
  VV_BOOTSTRAP_ADMIN_PASSWORD: { kind: 'secret', doc: 'Password of the first-start admin user. When unset a one-time password is generated and printed once.' },
  VV_REQUIRE_HTTPS: { kind: 'bool', default: false, doc: 'Reject plain-HTTP requests (403). Behind a TLS-terminating proxy also set VV_TRUST_PROXY.' },
  VV_TRUST_PROXY: { kind: 'bool', default: false, doc: 'Trust X-Forwarded-Proto/-For from a reverse proxy.' },
  VV_MAX_BODY_MB: { kind: 'int', default: 10, min: 1, max: 1024, doc: 'Largest JSON request body in MiB; larger bodies get 413. Whatever their size, bodies that nest objects and arrays more than 64 levels deep are refused as malformed.' },
  VV_CLIENT_RATE_LIMIT: { kind: 'int', default: 600, min: 1, max: 10_000_000, doc: 'Requests per minute per API key or token subject on client APIs (client_rate_limit).' },
  VV_METRICS_TOKEN: { kind: 'secret', doc: 'When set, /metrics requires `Authorization: Bearer <token>`.' },
  VV_DOCS_ENABLED: { kind: 'bool', default: true, doc: 'Serve /openapi.json, Swagger UI at /docs and ReDoc at /redoc.' },
  VV_ALLOW_PRIVATE_TARGETS: { kind: 'bool', default: false, doc: 'Let outbound HTTP reach loopback, private and link-local addresses (tests and the demo set this).' },
  VV_HTTP_TIMEOUT_MS: { kind: 'int', default: 15_000, min: 100, max: 600_000, doc: 'Timeout of one outbound HTTP attempt.' },
  VV_HTTP_MAX_RETRIES: { kind: 'int', default: 3, min: 0, max: 10, doc: 'Retries of an outbound HTTP request on 429/5xx/network errors (honouring Retry-After).' },
  VV_JOBS_CONCURRENCY: { kind: 'int', default: 4, min: 1, max: 256, doc: 'Jobs one worker process runs at once.' },
  VV_IDEMPOTENCY_TTL_HOURS: { kind: 'int', default: 24, min: 24, max: 720, doc: 'How long Idempotency-Key results are kept and replayed.' },
  VV_MAX_UPLOAD_MB: { kind: 'int', default: 100, min: 1, max: 10_240, doc: 'Largest scanner file accepted by POST /api/v1/upload, in MiB; enforced while streaming (413).' },
  VV_UPLOAD_DIR: { kind: 'string', doc: 'Where uploaded scanner files wait for their import job (default <VV_DATA_DIR>/uploads). API and worker processes must share it.' },
  VV_SCANS_RETENTION_DAYS: { kind: 'int', default: 90, min: 1, max: 3650, doc: 'Finished scanner import jobs (and their log lines) are deleted this many days after they ended; the findings they stored stay.' },
  VV_SCANS_LOG_LINES: { kind: 'int', default: 20, min: 1, max: 500, doc: 'Log lines shown in a scan job\'s `recent_logs`.' },
  VV_PROMPT_RATE_LIMIT_COMMUNITY: { kind: 'int', default: 100, min: 1, max: 100_000_000, doc: 'Prompt analysis (/analyze, /analyze/batch): requests per minute per API key of the community tier. Shared across processes through Redis when VV_REDIS_URL is set.' },
  VV_PROMPT_RATE_LIMIT_PROFESSIONAL: { kind: 'int', default: 1000, min: 1, max: 100_000_000, doc: 'Prompt analysis: requests per minute per API key of the professional tier.' },
  VV_PROMPT_RATE_LIMIT_ENTERPRISE: { kind: 'int', default: 10_000, min: 1, max: 100_000_000, doc: 'Prompt analysis: requests per minute per API key of the enterprise tier.' },
  VV_PROMPT_MAX_BATCH: { kind: 'int', default: 1000, min: 1, max: 100_000, doc: 'Prompts per /analyze/batch request at most; larger batches are refused with 400.' },
  VV_PROMPT_MAX_BODY_BYTES: { kind: 'int', default: 1_048_576, min: 1024, max: 104_857_600, doc: 'Largest /analyze or /analyze/batch request body in bytes; larger ones get 413 with `max_size`.' },
  VV_PROMPT_THRESHOLD: { kind: 'int', default: 50, min: 1, max: 100, doc: 'risk_score (0-100) at or above which a prompt is reported as a threat (is_threat). 50 is the calibrated operating point.' },
  VV_PROMPT_LOG: { kind: 'enum', default: 'off', values: ['off', 'metadata', 'full'], doc: 'What is kept of each analysed prompt for GET /api/v1/prompt-analyses: off (nothing), metadata (SHA-256, length, verdict, rule ids, timing) or full (metadata plus the prompt text). Metrics are kept in every mode.' },
  VV_PROMPT_LOG_RETENTION_DAYS: { kind: 'int', default: 30, min: 1, max: 3650, doc: 'Logged prompt analyses are deleted this many days after they were made.' },
  VV_PHOENIX_API_URL: { kind: 'string', example: 'https://api.demo.appsecphx.io', doc: 'Default Phoenix Security API for exporting scanner imports (an upload\'s phoenix_api_url overrides it).' },
  VV_PHOENIX_CLIENT_ID: { kind: 'string', doc: 'Default Phoenix client id; with VV_PHOENIX_CLIENT_SECRET and VV_PHOENIX_API_URL every import is exported unless the upload names other credentials.' },
  VV_PHOENIX_CLIENT_SECRET: { kind: 'secret', doc: 'Default Phoenix client secret (never logged).' },
  VV_WS_HEARTBEAT_SECONDS: { kind: 'int', default: 15, min: 1, max: 300, doc: 'Seconds between `heartbeat` messages on WS /ws/{job_id}.' },
  VV_SPECTRASTRIKE_MAX_BATCH_SIZE: {
    kind: 'int', default: 250, min: 1, max: 1000, clamp: true,
    doc: 'Largest SpectraStrike batch (items); values outside 1..1000 are clamped. Larger batches get 422 batch_too_large (nothing stored).',
  },
  VV_SPECTRASTRIKE_SIGNATURE_SECRET: { kind: 'secret', doc: 'When set, SpectraStrike requests must carry X-Signature/X-Timestamp (HMAC-SHA256) and responses are signed.' },
  VV_SPECTRASTRIKE_SIGNATURE_SKEW_SECONDS: { kind: 'int', default: 300, min: 1, max: 3600, doc: 'Allowed clock skew of X-Timestamp.' },
} satisfies Record<string, Setting>

export type SettingName = keyof typeof settings

type ValueOf<S> = S extends { kind: 'int' } ? number
  : S extends { kind: 'bool' } ? boolean
  : S extends { kind: 'duration' } ? number
  : S extends { default: string } ? string
  : string | undefined

/** Parsed configuration: camel-free, keyed by the setting name without the VV_ prefix. */
export type Config = { readonly [K in SettingName as K extends `VV_${infer R}` ? R : never]: ValueOf<(typeof settings)[K]> } & {
  /** True when the embedded PGlite database is used. */
  readonly embedded: boolean
}

export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`Invalid configuration: ${setting} ${message}`)
    this.name = 'ConfigError'
  }
}

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/

/** Parses "90s", "15m", "1h", "7d" or plain seconds into seconds. */
export function parseDurationSeconds(value: string): number | undefined {
  const m = DURATION.exec(value.trim())
  if (!m) return undefined
  const n = Number(m[1])
  switch (m[2]) {
    case 'ms': return Math.ceil(n / 1000)
    case 'm': return n * 60
    case 'h': return n * 3600
    case 'd': return n * 86_400
    default: return n
  }
}

function parseOne(name: string, s: Setting, raw: string | undefined): unknown {
  const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim()
  switch (s.kind) {
    case 'string':
    case 'secret':
      return value ?? s.default
    case 'url': {
      if (value === undefined) return s.default
      let u: URL
      try { u = new URL(value) } catch { throw new ConfigError(name, `must be a URL, got "${value}"`) }
      if (!s.protocols.includes(u.protocol)) throw new ConfigError(name, `must use ${s.protocols.join(' or ')}, got "${u.protocol}"`)
      return value
    }
    case 'int': {
      if (value === undefined) return s.default
      if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`)
      const n = Number(value)
      if (n < s.min || n > s.max) {
        if (s.clamp) return Math.min(s.max, Math.max(s.min, n))
        throw new ConfigError(name, `must be between ${s.min} and ${s.max}, got ${n}`)
      }
      return n
    }
    case 'bool': {
      if (value === undefined) return s.default
      const v = value.toLowerCase()
      if (['1', 'true', 'yes', 'on'].includes(v)) return true
      if (['0', 'false', 'no', 'off'].includes(v)) return false
      throw new ConfigError(name, `must be 1/0, true/false, yes/no or on/off, got "${value}"`)
    }
    case 'enum': {
      if (value === undefined) return s.default
      if (!s.values.includes(value)) throw new ConfigError(name, `must be one of ${s.values.join(', ')}, got "${value}"`)
      return value
    }
    case 'duration': {
      const seconds = parseDurationSeconds(value ?? s.default)
      if (seconds === undefined || seconds <= 0) throw new ConfigError(name, `must be a duration such as 30s, 15m, 1h or 7d, got "${value}"`)
      return seconds
    }
  }
}

/** Parses and validates every VV_* setting. Throws ConfigError naming the first bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Record<SettingName, string>> = {}): Config {
  const out: Record<string, unknown> = {}
  for (const [name, s] of Object.entries(settings) as [SettingName, Setting][]) {
    out[name.slice(3)] = parseOne(name, s, overrides[name] ?? env[name])
  }
  const unknown = Object.keys(env).filter((k) => k.startsWith('VV_') && !(k in settings) && !k.startsWith('VV_TEST_'))
  if (unknown.length > 0) throw new ConfigError(unknown[0]!, 'is not a known setting (see .env.example)')
  const cfg = out as Record<string, unknown>
  cfg.embedded = cfg.DATABASE_URL === undefined
  if (typeof cfg.JWT_SECRET === 'string' && cfg.JWT_SECRET.length < 32) {
    throw new ConfigError('VV_JWT_SECRET', 'must be at least 32 characters')
  }
  if (cfg.JWT_JWKS_URL !== undefined && (cfg.JWT_ISSUER === undefined || cfg.JWT_AUDIENCE === undefined)) {
    throw new ConfigError('VV_JWT_JWKS_URL', 'needs VV_JWT_ISSUER and VV_JWT_AUDIENCE to be set as well')
  }
  if (!cfg.embedded) {
    if (cfg.JWT_SECRET === undefined) throw new ConfigError('VV_JWT_SECRET', 'is required when VV_DATABASE_URL is set (every process must share it)')
    if (cfg.ENCRYPTION_KEY === undefined) throw new ConfigError('VV_ENCRYPTION_KEY', 'is required when VV_DATABASE_URL is set (every process must share it)')
  }
  if (typeof cfg.ENCRYPTION_KEY === 'string' && decodeKey(cfg.ENCRYPTION_KEY) === undefined) {
    throw new ConfigError('VV_ENCRYPTION_KEY', 'must be 32 bytes as base64 or 64 hex characters')
  }
  return cfg as unknown as Config
}

/** Decodes a 32-byte key from 64 hex chars or base64; undefined if it is neither. */
export function decodeKey(value: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex')
  const b = Buffer.from(value, 'base64')
  return b.length === 32 ? b : undefined
}

/** Renders .env.example from the declarations. */
export function renderEnvExample(): string {
  const lines = ['# VeriVault configuration. Every setting is optional; the defaults run an embedded, single-process install.', '# Generated from src/config.ts by `npm run docs:config`.', '']
  for (const [name, s] of Object.entries(settings) as [string, Setting][]) {
    lines.push(`# ${s.doc}`)
    const extra = s.kind === 'int' ? ` Range ${s.min}..${s.max}.` : s.kind === 'enum' ? ` One of: ${s.values.join(', ')}.` : ''
    if (extra) lines.push(`#${extra}`)
    const def = 'default' in s && s.default !== undefined ? String(s.kind === 'bool' ? (s.default ? 1 : 0) : s.default) : undefined
    if (def !== undefined) lines.push(`# ${name}=${def}`)
    else lines.push(`# ${name}=${s.example ?? ''}`)
    lines.push('')
  }
  return lines.join('\n')
}

/** Renders the README configuration table rows. */
export function renderConfigTable(): string {
  const rows = ['| Setting | Default | Description |', '|---|---|---|']
  for (const [name, s] of Object.entries(settings) as [string, Setting][]) {
    const def = 'default' in s && s.default !== undefined ? `\`${s.kind === 'bool' ? (s.default ? 1 : 0) : s.default}\`` : '—'
    rows.push(`| \`${name}\` | ${def} | ${s.doc.replace(/\|/g, '\\|')} |`)
  }
  return rows.join('\n')
}
