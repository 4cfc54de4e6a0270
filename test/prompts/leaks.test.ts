import { Buffer } from 'node:buffer'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { LEAK_TYPES, findLeaks } from '../../src/modules/prompts/engine/leaks.js'
import type { LeakFinding } from '../../src/modules/prompts/engine/types.js'

// Secret-shaped fixtures are assembled from parts so that this file holds no literal token for secret scanners.
const j = (...parts: string[]) => parts.join('')
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url')

const types = (text: string) => findLeaks(text).map((f) => f.type)
const only = (text: string): LeakFinding => {
  const found = findLeaks(text)
  expect(found, JSON.stringify(found)).toHaveLength(1)
  return found[0]!
}
/** The single finding of `type` in `text`, whose offsets must point at `value`. */
const expectLeak = (text: string, type: string, value: string): LeakFinding => {
  const f = only(text)
  expect(f.type).toBe(type)
  expect(text.slice(f.start, f.end)).toBe(value)
  return f
}

const GITHUB_VALID = j('ghp_', 'zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ', '0mLq17') // CRC32 checksum matches
const GITHUB_BAD_CRC = j('ghp_', 'zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ', '0mLq18')
const NPM_VALID = j('npm_', 'Hq8ZpW3rT7yV2mK9xL4nB6cJ1fD5gS', '1fIZb6')

describe('findLeaks — secrets', () => {
  it('GitHub tokens: the CRC32 checksum of the new formats sets validated', () => {
    const ok = expectLeak(`export GH=${GITHUB_VALID}`, 'github_token', GITHUB_VALID)
    expect(ok).toMatchObject({ kind: 'secret', severity: 'critical', validated: true, masked: 'ghp_…Lq17' })
    const bad = expectLeak(`token ${GITHUB_BAD_CRC} here`, 'github_token', GITHUB_BAD_CRC)
    expect(bad.validated).toBe(false)
    expect(bad.confidence).toBeLessThan(ok.confidence)
    for (const p of ['gho_', 'ghu_', 'ghs_', 'ghr_']) {
      const tok = j(p, 'zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ', '0mLq17')
      expect(expectLeak(`a ${tok} b`, 'github_token', tok).validated).toBe(true)
    }
    const pat = j('github_pat_', '11ABCDE2Y0aZ7kQm3Xp9Lw', '_', 'Vt5Rb8Nc2Hd6Jf1Gs4Ka7Pe3Wq9Zx0Cy5Mu8Ni2Bo6Lr1Ts4Dv7Fh3Jk9Qm')
    expect(expectLeak(`PAT=${pat}`, 'github_token', pat).validated).toBe(true)
  })

  it('npm tokens carry the same checksum', () => {
    expect(expectLeak(`//registry.npmjs.org/:_authToken=${NPM_VALID}`, 'npm_token', NPM_VALID).validated).toBe(true)
    const bad = j(NPM_VALID.slice(0, -1), 'A')
    expect(expectLeak(`npm ${bad}`, 'npm_token', bad).validated).toBe(false)
  })

  it('AWS access key ids, and secret keys only next to an AWS context', () => {
    const id = j('AKIA', 'Z3MSJV4WWNKWYBZJ')
    const secret = j('Qx9/TfL2mZ8pRkWv4NsH', 'y7bJcD1eGaU0oPiK3tYq')
    const found = findLeaks(`aws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`)
    expect(found.map((f) => [f.type, f.severity, f.validated])).toEqual([
      ['aws_access_key_id', 'high', true],
      ['aws_secret_access_key', 'critical', true],
    ])
    expect(found[0]!.masked).toBe('AKIA…YBZJ')
    // The same 40 characters without an AWS context are not claimed.
    expect(findLeaks(`checksum ${secret}`)).toEqual([])
    // AWS's documentation example is still reported, with low confidence and not validated.
    const example = expectLeak(j('key AKIA', 'IOSFODNN7EXAMPLE'), 'aws_access_key_id', j('AKIA', 'IOSFODNN7EXAMPLE'))
    expect(example).toMatchObject({ validated: false, masked: 'AKIA…MPLE' })
    expect(example.confidence).toBeLessThanOrEqual(0.5)
    const temp = j('ASIA', 'Q4LNB7XKJ2RM5TVC')
    expectLeak(`session key ${temp}`, 'aws_access_key_id', temp)
  })

  it('Slack, Stripe, GitLab, Google, SendGrid, PyPI, Twilio and Azure formats', () => {
    const cases: Array<[string, string]> = [
      [j('xoxb-', '2938475610', '-', '5829304756102', '-', 'Rk7qZt2WmX9pLc4VbN8sYd3J'), 'slack_token'],
      [j('https://hooks.slack.com/services/', 'T0G7K3M2P', '/', 'B05QX8R4N1Z', '/', 'q8Zr3Xt6Lm1Wc9Vb4Nk2Yp7J'), 'slack_webhook'],
      [j('sk_live_', '51Hq8ZpW3rT7yV2mK9xL4nB6cJ'), 'stripe_secret_key'],
      [j('rk_live_', '51Hq8ZpW3rT7yV2mK9xL4nB6cJ'), 'stripe_secret_key'],
      [j('glpat-', 'x9Kq2LmZ7vT3wRb8nYc5'), 'gitlab_token'],
      [j('AIza', 'SyD9tSrke72PouQMnMXa7eZSW0jkFMBWYq4'), 'google_api_key'],
      [j('SG.', 'nG5xq7Lp2Rm9Tc3Vb8Kw1Z', '.', 'f4Hj8Pq2Lm6Xr9Tb3Nc7Vw1Zk5Yd0Gs2Ae4Ju8Ri6Oy'), 'sendgrid_api_key'],
      [j('pypi-', 'AgEIcHlwaS5vcmc', 'CJGQ2ZTI5YjAtM2FiMi00YjU4LWE0NmQtOWM4NjdhNTFkOWQzAAIqWzMsIjU0'), 'pypi_token'],
      [j('SK', '7f3a9c2e5b8d1f4a6c9e2b5d8f1a3c6e'), 'twilio_api_key'],
    ]
    for (const [tok, type] of cases) {
      const f = expectLeak(`value: ${tok} end`, type, tok)
      expect(f.kind).toBe('secret')
      expect(f.masked.length).toBeLessThanOrEqual(9)
    }
    const azureKey = j('q8Zr3Xt6Lm1Wc9Vb4Nk2Yp7Jh5Gd0Fs2Ae4Ju8Ri6Oy', 'Tw1Qe3Rt5Yu7Io9Pa2Sd4Fg6Hj8Kl0Zx2Cv4Bn6Mm8Q==')
    const conn = `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${azureKey};EndpointSuffix=core.windows.net`
    expect(expectLeak(conn, 'azure_storage_key', azureKey).validated).toBe(true)
    const twilioToken = j('9f8e7d6c5b4a', '39281706f5e4d3c2b1a0')
    expectLeak(`TWILIO_AUTH_TOKEN=${twilioToken}`, 'twilio_auth_token', twilioToken)
  })

  it('OpenAI and Anthropic keys; the "T3BlbkFJ" marker validates OpenAI keys', () => {
    const proj = j('sk-proj-', 'Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5kL7nP9', 'T3BlbkFJ', 'Qw8eR4tY6uI8oP0aS2dF4gH6')
    expect(expectLeak(`OPENAI_API_KEY=${proj}`, 'openai_api_key', proj).validated).toBe(true)
    const legacy = j('sk-', 'Zr3Xt6Lm1Wc9Vb4Nk2Yp7Jh5Gd0Fs2Ae4Ju8Ri6OyTw1Qe3R')
    expectLeak(`key ${legacy}`, 'openai_api_key', legacy)
    const ant = j('sk-ant-api03-', 'Rk7qZt2WmX9pLc4VbN8sYd3Jq8Zr3Xt6Lm1Wc9Vb4Nk2Yp7Jh5Gd0Fs2Ae4Ju8Ri6OyTw1Qe3Rt5Yu7Io9Pa2Sd4Fg6Hj8Kl0Zx2Cv4B', 'AA')
    const f = expectLeak(`ANTHROPIC_API_KEY="${ant}"`, 'anthropic_api_key', ant)
    expect(f).toMatchObject({ severity: 'critical', validated: true })
    // Words that merely start with sk- are not keys.
    expect(findLeaks('use sk-learn-classification-pipeline-tutorial and task-runner-configuration-file')).toEqual([])
  })

  it('private key blocks, validated when the PEM body is complete', () => {
    const body = 'MIIEowIBAAKCAQEAw9Zr3Xt6Lm1Wc9Vb4Nk2Yp7Jh5Gd0Fs2Ae4Ju8Ri6OyTw1Qe3R\nt5Yu7Io9Pa2Sd4Fg6Hj8Kl0Zx2Cv4Bn6Mm8Qa0Ws3Ed5Rf7Tg9Yh1Uj3Ik5Ol7P'
    const pem = j('-----BEGIN RSA ', 'PRIVATE KEY-----\n', body, '\n-----END RSA ', 'PRIVATE KEY-----')
    const f = expectLeak(`here is my key:\n${pem}\nthanks`, 'private_key', pem)
    expect(f).toMatchObject({ severity: 'critical', validated: true })
    expect(f.masked).not.toContain('MIIE')
    const openssh = j('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\n', body, '\n-----END OPENSSH ', 'PRIVATE KEY-----')
    expect(only(openssh).type).toBe('private_key')
    // A header alone (truncated paste) is still reported, not validated.
    expect(only(j('-----BEGIN ', 'PRIVATE KEY-----\nMIIE')).validated).toBe(false)
    expect(findLeaks('-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----')).toEqual([])
  })

  it('JWTs only when the header decodes to JSON with "alg"', () => {
    const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"1234567890","name":"Ann","iat":1516239022}')}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`
    const f = expectLeak(`Authorization: Bearer ${jwt}`, 'jwt', jwt)
    expect(f).toMatchObject({ validated: true, severity: 'high' })
    // Sentence punctuation after the token is not part of it.
    expect(text(`token ${jwt}.`)).toBe(jwt)
    const noAlg = `${b64url('{"typ":"JWT","kid":"abc"}')}.${b64url('{"sub":"1"}')}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`
    expect(types(noAlg)).toEqual([])
    expect(types('eyJhbGciOi.not-base64-json.zzz')).toEqual([])
  })

  it('bearer tokens and passwords in URLs', () => {
    const tok = 'h7Lq2Zr9Xt3Wm8Vb4Nc1Yp6Jk5Gd0Fs'
    expectLeak(`curl -H "Authorization: Bearer ${tok}" https://api.acme.io`, 'bearer_token', tok)
    expect(findLeaks('curl -H "Authorization: Bearer YOUR_ACCESS_TOKEN_GOES_HERE_1"')).toEqual([])
    expect(findLeaks('Authorization: Bearer $TOKEN')).toEqual([])
    expectLeak('DATABASE_URL=postgres://app:Zr9xT3wM8vB4@db.internal:5432/app', 'url_credentials', 'Zr9xT3wM8vB4')
    expect(findLeaks('postgres://user:password@localhost:5432/db and mysql://root:${DB_PASS}@db/x')).toEqual([])
  })

  it('generic assignments need a high-entropy value and skip placeholders and code', () => {
    expectLeak('DB_PASSWORD="Tr0ub4dor&3xZ"', 'password', 'Tr0ub4dor&3xZ')
    expectLeak('{"client_secret": "q8Zr3Xt6Lm1Wc9Vb4Nk2Yp"}', 'generic_secret', 'q8Zr3Xt6Lm1Wc9Vb4Nk2Yp')
    expectLeak('api_key: 7f3a9c2e5b8d1f4a6c9e2b5d8f1a3c6e', 'generic_api_key', '7f3a9c2e5b8d1f4a6c9e2b5d8f1a3c6e')
    expectLeak('https://api.acme.io/v1/items?api_key=Hq8ZpW3rT7yV2mK9xL4n&page=2', 'generic_api_key', 'Hq8ZpW3rT7yV2mK9xL4n')
    expectLeak('secret_key_base: 7d3c2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b', 'generic_secret', '7d3c2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b')
    expectLeak('my password is Summer2024xy and I keep forgetting it', 'password', 'Summer2024xy')
    expectLeak('Mein Passwort ist Sommer-2024-Rot', 'password', 'Sommer-2024-Rot')
    expectLeak('contraseña: Verano2024#Az', 'password', 'Verano2024#Az')
    const negatives = [
      'What is a good password policy?',
      'password: changeme',
      'password = "<your password>"',
      'api_key = "xxxxxxxxxxxxxxxxxxxx"',
      'API_KEY=your-api-key-here-12345',
      'secret: example-secret-value-123',
      'password: ********',
      'password = os.getenv("DB_PASSWORD")',
      'password: process.env.DB_PASSWORD',
      "password = request.form['password']",
      'token = tokenizer.encode(text)',
      'password: string;',
      'api_key = ${OPENAI_API_KEY}',
      'token: 2048',
      'max_tokens: 4096',
      'token_type: bearer, token_url: https://auth.acme.io/oauth/token, password_min_length: 12',
      'secret_name: prod-db-secret-2024, tokens_per_second: 45.2',
      'the password is stored in a vault',
      'The password is at least 12 characters long.',
      'Set your API key in the OPENAI_API_KEY environment variable before running.',
      "I forgot my password and can't log in to my account — how do I reset it?",
      'Stored password hash example: $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.S',
      'secret_key: abcdef1234567890',
      'password: {{ vault_db_password }}',
      'password: "must contain a digit or a symbol"',
      'api_key: "Enter the 32 character key from the console"',
    ]
    for (const n of negatives) expect(findLeaks(n), n).toEqual([])
  })

  it('one finding per stretch of text: a known format wins over the generic assignment around it', () => {
    const f = only(`GITHUB_TOKEN="${GITHUB_VALID}"`)
    expect(f.type).toBe('github_token')
  })
})

describe('findLeaks — personal data', () => {
  it('payment cards: Luhn-valid with a known IIN, in the usual groupings', () => {
    for (const card of ['4539 1488 0343 6467', '4539-1488-0343-6467', '4539148803436467', '2221 0012 3412 3450', '3782 822463 10005', '6011000990139424']) {
      const f = expectLeak(`card: ${card}, exp 12/27`, 'credit_card', card)
      expect(f).toMatchObject({ kind: 'pii', severity: 'high', validated: true })
      expect(f.masked).toBe(`${card.slice(0, 4)}…${card.slice(-4)}`)
    }
    // A preceding number in the same run does not hide the card.
    expectLeak('ref 2024 4539 1488 0343 6467', 'credit_card', '4539 1488 0343 6467')
    // Published test numbers are reported with lower confidence.
    expect(only('pay with 4111 1111 1111 1111').confidence).toBeLessThan(0.7)
  })

  it('numbers that are not cards', () => {
    const negatives = [
      'order 4539 1488 0343 6468 shipped', // fails Luhn
      'order number 1234567890123452', // Luhn-valid, no card network starts with 1
      'version 4.5.3.9148803436467',
      'pi is 3.14159265358979323846',
      'timestamp 1700000000000 and 1716239022123',
      'call 0800 1234 5678 9012 today', // not Luhn-valid
      'id 45391488034364670001', // 20 digits
      'amount 4,539,148,803,436,467',
      'token abc4539148803436467',
    ]
    for (const n of negatives) expect(findLeaks(n), n).toEqual([])
  })

  it('IBANs: country length and mod-97', () => {
    for (const iban of ['GB29 NWBK 6016 1331 9268 19', 'DE89370400440532013000', 'FR14 2004 1010 0505 0001 3M02 606', 'NL91ABNA0417164300']) {
      const f = expectLeak(`Please wire it to ${iban}.`, 'iban', iban)
      expect(f).toMatchObject({ kind: 'pii', validated: true })
    }
    expect(findLeaks('IBAN GB28 NWBK 6016 1331 9268 19')).toEqual([]) // bad check digits
    expect(findLeaks('IBAN GB29 NWBK 6016 1331 9268 1')).toEqual([]) // too short for GB
    expect(findLeaks('XX29NWBK60161331926819 and ES2015 and ES6')).toEqual([])
  })

  it('US SSNs, with the never-issued ranges excluded', () => {
    const f = expectLeak('My SSN is 536-22-8473.', 'us_ssn', '536-22-8473')
    expect(f).toMatchObject({ validated: true, severity: 'high' })
    expect(only('applicant 536-22-8473 approved').validated).toBe(false) // shape only, no context
    expectLeak('social security number: 536228473', 'us_ssn', '536228473')
    for (const bad of ['000-12-3456', '666-12-3456', '912-34-5678', '536-00-8473', '536-22-0000']) {
      expect(findLeaks(`SSN ${bad}`), bad).toEqual([])
    }
    expect(findLeaks('call 536228473 now')).toEqual([]) // nine digits without context
    expect(findLeaks('released 2023-11-05, build 123-456-7890')).toEqual([])
  })

  it('UK National Insurance numbers', () => {
    expectLeak('NI number: AB 12 34 56 C', 'uk_nino', 'AB 12 34 56 C')
    expectLeak('nino JG103759A ok', 'uk_nino', 'JG103759A')
    for (const bad of ['QQ123456C', 'GB123456A', 'AB123456E', 'DA123456A']) expect(findLeaks(`id ${bad}`), bad).toEqual([])
  })

  it('phone numbers only in E.164 "+" form', () => {
    expectLeak('call me on +44 20 7946 0958 tomorrow', 'phone', '+44 20 7946 0958')
    expectLeak('WhatsApp: +14155550132', 'phone', '+14155550132')
    expectLeak('US office +1 (415) 555-0132.', 'phone', '+1 (415) 555-0132')
    for (const n of ['call (415) 555-0132', 'score 2+3=5', 'C++17', 'x = y +12', 'v+1.2.3', 'temp +1.5']) {
      expect(findLeaks(n), n).toEqual([])
    }
  })

  it('e-mail addresses, except reserved documentation domains and code-like look-alikes', () => {
    const f = expectLeak('Contact john.smith@acme-corp.io for access', 'email', 'john.smith@acme-corp.io')
    expect(f).toMatchObject({ kind: 'pii', severity: 'medium', masked: 'john…p.io' })
    expectLeak('mailto:ana+invoices@mail.acme.co.uk', 'email', 'ana+invoices@mail.acme.co.uk')
    for (const n of [
      'Report vulnerabilities to security@example.com.',
      'send to attacker@evil-collect.example',
      'logo@2x.png and icon@3x.svg',
      'npm i lodash@4.17.21 @types/node',
      'git clone git@github.com:acme/repo.git',
      'ping <@746404683198758984>',
      'user@localhost',
    ]) {
      expect(findLeaks(n), n).toEqual([])
    }
  })

  it('not personal data: private IPv4 addresses, UUIDs, git SHAs, versions, dates', () => {
    const negatives = [
      'server at 192.168.1.10, gateway 10.0.0.1, docker 172.17.0.2',
      'Created resource {"id": "550e8400-e29b-41d4-a716-446655440000", "status": "ok"}',
      'fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b (short 3f78685)',
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'upgrade from 1.2.3 to 10.20.30-beta.1; released 2024-01-15T10:20:30Z',
      'Meeting on 15/01/2024 at 10:30, room 4.12',
      'Order #100234 total $1,234.56',
    ]
    for (const n of negatives) expect(findLeaks(n), n).toEqual([])
  })
})

describe('findLeaks — output contract', () => {
  it('masks show at most the first 4 and last 4 characters and never the whole value', () => {
    const text = [
      `DB_PASSWORD="Tr0ub4dor&3xZ"`,
      GITHUB_VALID,
      'card 4539 1488 0343 6467',
      'mail john.smith@acme-corp.io',
      'SSN 536-22-8473',
      'password: Zq9#xT2m',
    ].join('\n')
    const found = findLeaks(text)
    expect(found.length).toBe(6)
    for (const f of found) {
      const value = text.slice(f.start, f.end)
      const [head = '', tail = ''] = f.masked.split('…')
      expect(f.masked).toContain('…')
      expect(head.length).toBeLessThanOrEqual(4)
      expect(tail.length).toBeLessThanOrEqual(4)
      expect(head.length + tail.length).toBeLessThan(value.length)
      expect(value.startsWith(head) && value.endsWith(tail)).toBe(true)
      expect(f.confidence).toBeGreaterThan(0)
      expect(f.confidence).toBeLessThanOrEqual(1)
    }
    for (const f of found) expect(LEAK_TYPES[f.type], f.type).toBeTruthy()
    // Findings come in text order.
    expect(found.map((f) => f.start)).toEqual([...found.map((f) => f.start)].sort((a, b) => a - b))
  })

  it('looks at maxLength characters at most', () => {
    const text = `${'a '.repeat(500)}${GITHUB_VALID}`
    expect(findLeaks(text)).toHaveLength(1)
    expect(findLeaks(text, { maxLength: 1000 })).toEqual([])
    expect(findLeaks(text, { maxLength: 1000 + GITHUB_VALID.length })).toHaveLength(1)
  })

  it('returns at most maxFindings findings', () => {
    const text = Array.from({ length: 50 }, (_, i) => `u${i}@acme-corp.io`).join(' ')
    expect(findLeaks(text)).toHaveLength(50)
    expect(findLeaks(text, { maxFindings: 10 })).toHaveLength(10)
  })

  it('finds nothing in the benign prompts of the development corpus', () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const file = [
      process.env.VV_PROMPT_CORPUS ?? '',
      join(here, '../../../shared/corpus/prompts/dev.jsonl'),
      join(here, '../../../../shared/corpus/prompts/dev.jsonl'),
      '/work/shared/corpus/prompts/dev.jsonl',
    ].find((p) => p && existsSync(p))
    if (!file) return
    const flagged: string[] = []
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue
      const row = JSON.parse(line) as { text: string; label: number }
      if (row.label !== 0) continue
      const found = findLeaks(row.text)
      if (found.length) flagged.push(`${found.map((f) => f.type).join(',')}: ${row.text.slice(0, 80)}`)
    }
    expect(flagged).toEqual([])
  })
})

function text(input: string): string {
  const f = only(input)
  return input.slice(f.start, f.end)
}

// ---------------------------------------------------------------------------------------------------------------------
// Bounded time on hostile input, and speed on ordinary prompts.

const KB100 = 100 * 1024
const fill = (unit: string, size = KB100) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size)

describe('findLeaks — adversarial input finishes in bounded time', () => {
  const hostile: Record<string, string> = {
    'digits': fill('4'),
    'digit groups': fill('4539 '),
    'dashed digits': fill('1-'),
    'near-miss SSNs': fill('123-45-678 '),
    'near-miss cards': fill('4539 1488 0343 646 '),
    'at signs': fill('@'),
    'local parts': fill('a'),
    'email near-misses': fill('a@b.'),
    'dotted domains': fill('x@' + 'a.'.repeat(200) + ' '),
    'pluses': fill('+'),
    'phone near-misses': fill('+1 2 3 4 5 6 7 8 9 0 '),
    'eyJ runs': fill('eyJ'),
    'JWT near-misses': fill('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.'),
    'JWT long parts': fill(`eyJ${'a'.repeat(1600)}.${'b'.repeat(7000)}.`),
    'base64 run': fill('Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1eF3hJ5kL7nP9rS1uV3xZ/+'),
    'token prefixes': fill('ghp_sk-AKIAxoxb-glpat-AIzanpm_pypi-SG.'),
    'long token bodies': fill('ghp_' + 'A'.repeat(300) + ' '),
    'assignments': fill('password=password=password='),
    'password says': fill('password is password is '),
    'api_key quotes': fill('api_key: "' + 'x'.repeat(300)),
    'BEGIN headers': fill('-----BEGIN RSA PRIVATE KEY-----'),
    'BEGIN without END': fill('-----BEGIN ' + 'A '.repeat(20)),
    'many BEGINs, one END': fill('-----BEGIN RSA PRIVATE KEY-----\n'.repeat(400) + '-----END RSA PRIVATE KEY-----\n'),
    'PEM bodies': fill('-----BEGIN PRIVATE KEY-----\n' + 'QUJD'.repeat(3000) + '\n-----END PRIVATE KEY-----\n'),
    'URL credentials': fill('a://b:c'),
    'URL creds long': fill('ab://' + 'u'.repeat(70) + ':' + 'p'.repeat(140)),
    'IBAN starts': fill('GB29'),
    'IBAN spaced': fill('GB29 NWBK '),
    'NINO near-misses': fill('AB 12 34 56 '),
    'aws contexts': fill('aws secret '),
    'twilio contexts': fill('twilio auth token '),
    'bearer runs': fill('Bearer Bearer '),
    'ssn contexts': fill('ssn ssn 123 45 '),
    'unicode': fill('пароль 密码 パスワード é '),
    'alternating classes': fill('a1-_.'),
    'whitespace': fill(' \t\n'),
  }
  for (const [name, input] of Object.entries(hostile)) {
    it(`${name} (100 KB) < 250 ms`, () => {
      findLeaks(input) // warm-up
      const t0 = performance.now()
      findLeaks(input)
      const ms = performance.now() - t0
      expect(ms, `${name}: ${ms.toFixed(1)} ms`).toBeLessThan(250)
    })
  }

  it('random printable noise (100 KB) < 250 ms', () => {
    let seed = 42
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    const alphabet = 'aA0 -_.:=@+/"\'\n4eyJghp_sk'
    let s = ''
    for (let i = 0; i < KB100; i++) s += alphabet[Math.floor(rnd() * alphabet.length)]
    findLeaks(s)
    const t0 = performance.now()
    findLeaks(s)
    expect(performance.now() - t0).toBeLessThan(250)
  })
})

describe('findLeaks — no gross slowdown', () => {
  // A guard against an accidental quadratic step, with a wide margin for busy machines; the figure itself is
  // measured by npm run bench:prompts.
  it('a 1 KB prompt takes under 0.5 ms on average', () => {
    const base = [
      'Please summarise the following meeting notes and list the action items for each owner. ',
      'The deployment on 2024-01-15 failed because the config at /etc/app/config.yaml had a typo; ',
      'contact ops at ops-team@acme-corp.io or call +44 20 7946 0958. Version 3.2.1 fixed it. ',
      'Ignore the earlier draft; use the table below (order 100234, total $1,234.56). ',
      'Our password policy requires 12 characters and MFA; the API key lives in the vault. ',
    ].join('')
    const prompts = Array.from({ length: 200 }, (_, i) => fill(`${base} item ${i} `, 1024))
    for (const p of prompts) findLeaks(p)
    const rounds = 10
    const t0 = performance.now()
    for (let r = 0; r < rounds; r++) for (const p of prompts) findLeaks(p)
    const perPromptMs = (performance.now() - t0) / (rounds * prompts.length)
    console.log(`findLeaks: ${(perPromptMs * 1000).toFixed(1)} µs per 1 KB prompt`)
    expect(perPromptMs).toBeLessThan(0.5)
  })
})
