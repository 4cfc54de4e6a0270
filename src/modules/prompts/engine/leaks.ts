/**
 * Data-leakage detectors (issue 4, category data_leakage): secrets of the well-known formats and personal data, each
 * confirmed by a validator where the format allows one (GitHub/npm CRC32 checksums, JWT header JSON, PyPI macaroon
 * prefix, Luhn, IBAN mod-97, SSN ranges, entropy thresholds).
 *
 * Pure and synchronous. Linear in the input length:
 * - every regular expression starts with a literal prefix or a left-boundary look-behind and uses only bounded
 *   repetitions ({0,N}) of single character classes — no nested quantifiers, no alternation under a quantifier; each
 *   long repetition is followed by a character outside its class (so an attempt can end in one place only), and the
 *   few that are not ([A-Z0-9 ]{0,24}PRIVATE KEY, an identifier suffix of at most 20) backtrack a small constant;
 * - keyword boundaries are checked in code, not with a leading look-behind, where that keeps the regex fast;
 * - e-mail addresses, card numbers and phone numbers are found by hand-written scanners that visit each character a
 *   bounded number of times;
 * - the input is cut at `maxLength` (default 100,000 characters) and at most `maxFindings` findings are returned.
 */
import { Buffer } from 'node:buffer'
import type { LeakFinding, LeakKind, Severity } from './types.js'

export interface FindLeaksOptions {
  /** Characters analysed at most (default 100,000). */
  maxLength?: number
  /** Findings returned at most, in text order (default 256). */
  maxFindings?: number
}

export const LEAKS_DEFAULT_MAX_LENGTH = 100_000

/** Every `type` findLeaks can report, with a short description for explanations. */
export const LEAK_TYPES: Readonly<Record<string, string>> = {
  aws_access_key_id: 'AWS access key id',
  aws_secret_access_key: 'AWS secret access key',
  github_token: 'GitHub token',
  gitlab_token: 'GitLab token',
  slack_token: 'Slack token',
  slack_webhook: 'Slack incoming-webhook URL',
  stripe_secret_key: 'Stripe live secret or restricted key',
  openai_api_key: 'OpenAI API key',
  anthropic_api_key: 'Anthropic API key',
  google_api_key: 'Google API key',
  twilio_api_key: 'Twilio API key SID',
  twilio_account_sid: 'Twilio account SID',
  twilio_auth_token: 'Twilio auth token',
  sendgrid_api_key: 'SendGrid API key',
  npm_token: 'npm access token',
  pypi_token: 'PyPI API token',
  azure_storage_key: 'Azure storage account key',
  azure_shared_access_key: 'Azure shared access key',
  private_key: 'private key block',
  jwt: 'JSON Web Token',
  bearer_token: 'bearer token',
  url_credentials: 'password in a URL',
  password: 'password',
  generic_secret: 'secret or token assignment',
  generic_api_key: 'API key assignment',
  email: 'e-mail address',
  credit_card: 'payment card number',
  iban: 'IBAN',
  us_ssn: 'US Social Security number',
  uk_nino: 'UK National Insurance number',
  phone: 'phone number',
}
const DEFAULT_MAX_FINDINGS = 256

/** Secrets, then personal data; overlaps are resolved in favour of the more severe / validated finding. */
export function findLeaks(text: string, opts: FindLeaksOptions = {}): LeakFinding[] {
  const maxLength = Math.max(0, opts.maxLength ?? LEAKS_DEFAULT_MAX_LENGTH)
  const t = text.length > maxLength ? text.slice(0, maxLength) : text
  if (t.length < 6) return []
  const max = Math.max(0, opts.maxFindings ?? DEFAULT_MAX_FINDINGS)
  const s: Sink = { t, lower: t.toLowerCase(), out: [], max }
  scanPrefixedTokens(s)
  scanAwsSecret(s)
  scanTwilioToken(s)
  scanPrivateKeys(s)
  scanJwts(s)
  scanBearer(s)
  scanUrlCredentials(s)
  scanAssignments(s)
  scanEmails(s)
  scanCards(s)
  scanIbans(s)
  scanSsns(s)
  scanNinos(s)
  scanPhones(s)
  return resolve(s.out, max)
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared helpers

interface Sink {
  t: string
  /** t.toLowerCase(), for the cheap String#includes gates in front of the scanners. */
  lower: string
  out: LeakFinding[]
  /** maxFindings: a scanner stops once it alone has found this many (the rest could not be returned anyway). */
  max: number
}

function add(
  s: Sink,
  kind: LeakKind,
  type: string,
  start: number,
  end: number,
  severity: Severity,
  confidence: number,
  validated: boolean,
): void {
  s.out.push({
    kind,
    type,
    start,
    end,
    masked: maskValue(s.t.slice(start, end)),
    severity,
    confidence: Math.round(Math.min(1, Math.max(0, confidence)) * 100) / 100,
    validated,
  })
}

const NON_ASCII = /[^\u0000-\u007f]/

/**
 * The value with its middle replaced by "…": at most the first 4 and last 4 characters, and never more than a quarter
 * of the value on each side (so short secrets stay mostly hidden).
 */
export function maskValue(value: string): string {
  const chars = NON_ASCII.test(value) ? Array.from(value) : null
  const n = chars ? chars.length : value.length
  const k = Math.min(4, Math.floor(n / 4))
  if (k === 0) return '…'
  if (chars) return `${chars.slice(0, k).join('')}…${chars.slice(n - k).join('')}`
  return `${value.slice(0, k)}…${value.slice(n - k)}`
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const n = value.length
  if (n === 0) return 0
  const counts = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  let h = 0
  for (const count of counts.values()) {
    const p = count / n
    h -= p * Math.log2(p)
  }
  return h
}

interface CharClasses {
  lower: boolean
  upper: boolean
  digit: boolean
  symbol: boolean
  count: number
}

function charClasses(value: string): CharClasses {
  let lower = false
  let upper = false
  let digit = false
  let symbol = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 97 && c <= 122) lower = true
    else if (c >= 65 && c <= 90) upper = true
    else if (c >= 48 && c <= 57) digit = true
    else symbol = true
  }
  return { lower, upper, digit, symbol, count: +lower + +upper + +digit + +symbol }
}

const HEX_ONLY = /^(?:[0-9a-f]{1,512}|[0-9A-F]{1,512})$/

/**
 * True when the value's entropy is close to what random characters of its alphabet would give: at least `factor` of
 * log2(min(length, alphabet size)). Random base62/base64/hex tokens pass; words, repetitions and sequences do not.
 */
export function looksRandom(value: string, factor = 0.8): boolean {
  const n = value.length
  if (n < 8) return false
  let alphabet: number
  if (HEX_ONLY.test(value)) alphabet = 16
  else {
    const k = charClasses(value)
    alphabet = (k.lower ? 26 : 0) + (k.upper ? 26 : 0) + (k.digit ? 10 : 0) + (k.symbol ? 4 : 0)
  }
  return shannonEntropy(value) >= factor * Math.log2(Math.min(n, Math.max(2, alphabet)))
}

/** Values that are placeholders, not secrets: "xxxx", "<your key>", "${VAR}", "changeme", "****", "...". */
const PLACEHOLDER =
  /x{4}|\*{3}|\.{3}|#{3}|<|>|\$\{|\{\{|%s|your|here|placeholder|redacted|insert|change_?me|replace|dummy|fake|todo|fixme|lorem|secret|passw|token/i
/** Values that are documentation examples: kept for prefixed formats (lower confidence), dropped for generic ones. */
const EXAMPLE = /example|sample|test|demo|abcdef|123456|qwerty|(.)\1{5}/i

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c)
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11

// ---------------------------------------------------------------------------------------------------------------------
// Checksums

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32(ascii: string): number {
  let crc = 0xffffffff
  for (let i = 0; i < ascii.length; i++) crc = (CRC_TABLE[(crc ^ ascii.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function base62(n: number, width: number): string {
  let out = ''
  let v = n
  while (v > 0) {
    out = BASE62[v % 62] + out
    v = Math.floor(v / 62)
  }
  return out.padStart(width, '0')
}

/**
 * GitHub (ghp_/gho_/ghu_/ghs_/ghr_) and npm (npm_) tokens: 4-character prefix, 30 random base62 characters, then the
 * CRC32 of those 30 characters in base62 (6 characters, zero-padded).
 */
export function base62ChecksumValid(token: string): boolean {
  if (token.length !== 40) return false
  const body = token.slice(4, 34)
  return base62(crc32(body), 6) === token.slice(34)
}

/** Luhn (mod 10) over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return digits.length > 0 && sum % 10 === 0
}

/** ISO 13616 IBAN lengths by country (SWIFT IBAN registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30,
  KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20,
  MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
}

/** IBAN (upper case, no spaces) with the right length for its country and mod-97 = 1. */
export function ibanValid(iban: string): boolean {
  const len = IBAN_LENGTHS[iban.slice(0, 2)]
  if (len === undefined || iban.length !== len) return false
  const rearranged = iban.slice(4) + iban.slice(0, 4)
  let rem = 0
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i)
    if (isDigit(c)) rem = (rem * 10 + (c - 48)) % 97
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97
    else return false
  }
  return rem === 1
}

// ---------------------------------------------------------------------------------------------------------------------
// Secrets with a recognisable prefix

interface PrefixedFormat {
  type: string
  re: RegExp
  severity: Severity
  /** Returns null to drop the match, else its confidence and whether a validator confirmed it. */
  check: (m: string) => { confidence: number; validated: boolean } | null
}

/** Confidence and validation from the random-looking part of a token, with placeholders dropped and examples lowered. */
function byEntropy(body: string, base = 0.85): { confidence: number; validated: boolean } | null {
  if (PLACEHOLDER.test(body)) return null
  if (EXAMPLE.test(body)) return { confidence: 0.5, validated: false }
  const random = looksRandom(body)
  return { confidence: random ? Math.max(base, 0.9) : base - 0.2, validated: random }
}

const PREFIXED: PrefixedFormat[] = [
  {
    type: 'aws_access_key_id',
    re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    severity: 'high',
    check: (m) => {
      const body = m.slice(4)
      if (EXAMPLE.test(body)) return { confidence: 0.5, validated: false }
      // Key ids are base32 (A–Z, 2–7).
      const base32 = /^[A-Z2-7]{16}$/.test(body)
      return { confidence: base32 ? 0.95 : 0.7, validated: base32 }
    },
  },
  {
    type: 'github_token',
    re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g,
    severity: 'critical',
    check: (m) => {
      if (PLACEHOLDER.test(m.slice(4))) return null
      if (base62ChecksumValid(m)) return { confidence: 0.99, validated: true }
      return { confidence: EXAMPLE.test(m.slice(4)) ? 0.5 : 0.65, validated: false }
    },
  },
  {
    type: 'github_token',
    re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,240}(?![A-Za-z0-9_])/g,
    severity: 'critical',
    check: (m) => {
      const body = m.slice(11)
      const r = byEntropy(body.replace(/_/g, ''))
      if (!r) return null
      // Fine-grained PATs: 22 characters, "_", 59 characters.
      return /^[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$/.test(body) ? r : { confidence: r.confidence - 0.2, validated: false }
    },
  },
  {
    type: 'gitlab_token',
    re: /(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|ft|soat|oas|cbt)-[A-Za-z0-9_.-]{20,80}(?![A-Za-z0-9_-])/g,
    severity: 'critical',
    check: (m) => byEntropy(m.slice(m.indexOf('-') + 1).replace(/[.]+$/, '')),
  },
  {
    type: 'slack_token',
    re: /(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9_-])/g,
    severity: 'critical',
    check: (m) => {
      const body = m.slice(5)
      if (PLACEHOLDER.test(body)) return null
      // xoxb-<team id digits>-<user/bot id digits>-<secret>
      const structured = /^[0-9]{6,14}-[0-9]{6,14}-[A-Za-z0-9-]{10,200}$/.test(body)
      const r = byEntropy(body.replace(/-/g, ''))
      if (!r) return null
      if (structured) return { confidence: Math.max(r.confidence, 0.9), validated: r.validated }
      return /[0-9]/.test(body) ? { confidence: r.confidence - 0.2, validated: false } : null
    },
  },
  {
    type: 'slack_webhook',
    re: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/T[A-Z0-9]{6,12}\/[A-Z0-9]{6,12}\/[A-Za-z0-9]{16,40}(?![A-Za-z0-9])/g,
    severity: 'high',
    check: (m) => byEntropy(m.slice(m.lastIndexOf('/') + 1)),
  },
  {
    type: 'stripe_secret_key',
    re: /(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{20,247}(?![A-Za-z0-9_])/g,
    severity: 'critical',
    check: (m) => byEntropy(m.slice(8)),
  },
  {
    type: 'anthropic_api_key',
    re: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,250}(?![A-Za-z0-9_-])/g,
    severity: 'critical',
    check: (m) => {
      const r = byEntropy(m.slice(7).replace(/^[a-z]{2,8}[0-9]{2}-/, ''))
      if (!r) return null
      // sk-ant-api03-<…>AA (about 108 characters in all)
      const shaped = /^sk-ant-[a-z]{2,8}[0-9]{2}-/.test(m) && m.endsWith('AA') && m.length >= 90
      return shaped ? { confidence: Math.max(0.95, r.confidence), validated: r.validated } : { confidence: r.confidence - 0.15, validated: false }
    },
  },
  {
    type: 'openai_api_key',
    re: /(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,250}(?![A-Za-z0-9_-])/g,
    severity: 'critical',
    check: (m) => {
      if (m.startsWith('sk-ant-')) return null
      const scoped = /^sk-(?:proj|svcacct|admin|None)-/.test(m)
      const body = scoped ? m.slice(m.indexOf('-', 3) + 1) : m.slice(3)
      // "T3BlbkFJ" is base64 for "OpenAI": present in every key issued since 2023.
      if (body.includes('T3BlbkFJ')) return PLACEHOLDER.test(body) ? null : { confidence: 0.99, validated: true }
      const r = byEntropy(body)
      if (!r) return null
      if (scoped) return body.length >= 40 ? r : null
      // Legacy keys: sk- and 48 base62 characters; anything else shaped sk-… must at least mix cases and digits.
      const k = charClasses(body)
      if (!/^[A-Za-z0-9]{32,64}$/.test(body) || k.count < 3) return null
      return body.length === 48 ? r : { confidence: r.confidence - 0.15, validated: false }
    },
  },
  {
    type: 'google_api_key',
    re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
    severity: 'high',
    check: (m) => byEntropy(m.slice(4)),
  },
  {
    type: 'twilio_api_key',
    re: /(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])/g,
    severity: 'high',
    check: (m) => byEntropy(m.slice(2), 0.8),
  },
  {
    type: 'twilio_account_sid',
    re: /(?<![A-Za-z0-9])AC[0-9a-f]{32}(?![A-Za-z0-9])/g,
    severity: 'medium',
    check: (m) => byEntropy(m.slice(2), 0.75),
  },
  {
    type: 'sendgrid_api_key',
    re: /(?<![A-Za-z0-9_.-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
    severity: 'critical',
    check: (m) => byEntropy(m.slice(3).replace('.', ''), 0.9),
  },
  {
    type: 'npm_token',
    re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g,
    severity: 'critical',
    check: (m) => {
      if (PLACEHOLDER.test(m.slice(4))) return null
      if (base62ChecksumValid(m)) return { confidence: 0.99, validated: true }
      return { confidence: EXAMPLE.test(m.slice(4)) ? 0.5 : 0.65, validated: false }
    },
  },
  {
    type: 'pypi_token',
    re: /(?<![A-Za-z0-9_-])pypi-[A-Za-z0-9_-]{50,400}(?![A-Za-z0-9_-])/g,
    severity: 'critical',
    check: (m) => {
      const body = m.slice(5)
      // A macaroon whose location is pypi.org or test.pypi.org.
      if (body.startsWith('AgEIcHlwaS5vcmc') || body.startsWith('AgENdGVzdC5weXBpLm9yZw')) return { confidence: 0.99, validated: true }
      const r = byEntropy(body)
      return r ? { confidence: r.confidence - 0.2, validated: false } : null
    },
  },
  {
    type: 'azure_storage_key',
    re: /(?<![A-Za-z0-9])AccountKey=[A-Za-z0-9+/]{86}==/g,
    severity: 'critical',
    check: (m) => {
      const r = byEntropy(m.slice(11, -2))
      return r ? { confidence: r.validated ? 0.97 : r.confidence, validated: r.validated } : null
    },
  },
  {
    type: 'azure_shared_access_key',
    re: /(?<![A-Za-z0-9])SharedAccessKey=[A-Za-z0-9+/]{43}=/g,
    severity: 'critical',
    check: (m) => byEntropy(m.slice(16, -1)),
  },
]

/** Literal each format needs, checked with String#includes before its regex runs. */
const PREFIX_HINTS: Record<string, string[]> = {
  aws_access_key_id: ['AKIA', 'ASIA'],
  github_token: ['gh', 'github_pat_'],
  gitlab_token: ['gl'],
  slack_token: ['xox'],
  slack_webhook: ['hooks.slack.com'],
  stripe_secret_key: ['_live_'],
  anthropic_api_key: ['sk-ant-'],
  openai_api_key: ['sk-'],
  google_api_key: ['AIza'],
  twilio_api_key: ['SK'],
  twilio_account_sid: ['AC'],
  sendgrid_api_key: ['SG.'],
  npm_token: ['npm_'],
  pypi_token: ['pypi-'],
  azure_storage_key: ['AccountKey='],
  azure_shared_access_key: ['SharedAccessKey='],
}

function scanPrefixedTokens(s: Sink): void {
  for (const f of PREFIXED) {
    const hints = PREFIX_HINTS[f.type]
    if (hints && !hints.some((h) => s.t.includes(h))) continue
    for (const m of s.t.matchAll(f.re)) {
      let value = m[0]
      let start = m.index
      if (f.type === 'gitlab_token') value = value.replace(/[.]+$/, '')
      const r = f.check(value)
      if (!r) continue
      if (f.type === 'azure_storage_key' || f.type === 'azure_shared_access_key') {
        const eq = value.indexOf('=') + 1
        start += eq
        value = value.slice(eq)
      }
      add(s, 'secret', f.type, start, start + value.length, f.severity, r.confidence, r.validated)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Secrets recognised by their context

/** "aws_secret_access_key", "AWS secret key", "amazon … secret", "secret access key". */
const AWS_SECRET_CONTEXT = /(?:aws|amazon)[A-Za-z0-9_ .-]{0,24}secret|secret[_ .-]?access[_ .-]?key/gi
const AWS_SECRET_VALUE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/

function scanAwsSecret(s: Sink): void {
  if (!s.lower.includes('secret')) return
  for (const m of s.t.matchAll(AWS_SECRET_CONTEXT)) {
    const from = m.index + m[0].length
    const win = s.t.slice(from, from + 72)
    const v = AWS_SECRET_VALUE.exec(win)
    if (!v) continue
    const value = v[0]
    if (PLACEHOLDER.test(value)) continue
    const k = charClasses(value)
    if (k.count < 2 || !k.digit) continue
    const example = EXAMPLE.test(value)
    const random = !example && looksRandom(value, 0.85)
    if (!example && !random && shannonEntropy(value) < 3.5) continue
    const start = from + v.index
    add(s, 'secret', 'aws_secret_access_key', start, start + 40, 'critical', example ? 0.5 : random ? 0.95 : 0.75, random)
  }
}

const TWILIO_CONTEXT = /twilio[A-Za-z0-9_ .-]{0,24}(?:auth[_ .-]?token|secret)/gi
const HEX32 = /(?<![A-Za-z0-9])[0-9a-f]{32}(?![A-Za-z0-9])/

function scanTwilioToken(s: Sink): void {
  if (!s.lower.includes('twilio')) return
  for (const m of s.t.matchAll(TWILIO_CONTEXT)) {
    const from = m.index + m[0].length
    const v = HEX32.exec(s.t.slice(from, from + 64))
    if (!v) continue
    const r = byEntropy(v[0], 0.8)
    if (!r) continue
    const start = from + v.index
    add(s, 'secret', 'twilio_auth_token', start, start + 32, 'critical', r.confidence, r.validated)
  }
}

const PRIVATE_KEY_HEADER = /-----BEGIN [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?-----/g
const PRIVATE_KEY_FOOTER = /-----END [A-Z0-9 ]{0,24}PRIVATE KEY(?: BLOCK)?-----/
const PEM_BODY = /^[A-Za-z0-9+/=]{1,100000}$/

function scanPrivateKeys(s: Sink): void {
  if (!s.t.includes('PRIVATE KEY')) return
  // The next "-----END " and "-----BEGIN " after the cursor, found once and reused while they lie ahead; a body ends
  // at the first of them, so bodies never overlap and the whole scan stays linear.
  let endAt = -2
  let nextBegin = -2
  for (const m of s.t.matchAll(PRIVATE_KEY_HEADER)) {
    const start = m.index
    const bodyStart = start + m[0].length
    if (endAt !== -1 && endAt < bodyStart) endAt = s.t.indexOf('-----END ', bodyStart)
    if (nextBegin !== -1 && nextBegin < bodyStart) nextBegin = s.t.indexOf('-----BEGIN ', bodyStart)
    let end = bodyStart
    let validated = false
    let confidence = 0.85
    if (endAt >= 0 && endAt - bodyStart <= 16_384 && (nextBegin < 0 || nextBegin > endAt)) {
      const footer = PRIVATE_KEY_FOOTER.exec(s.t.slice(endAt, endAt + 64))
      if (footer && footer.index === 0) {
        end = endAt + footer[0].length
        // The body: base64 lines, after optional "Proc-Type:"/"DEK-Info:" headers of encrypted PEM keys.
        const body = s.t
          .slice(bodyStart, endAt)
          .split(/\r?\n/)
          .filter((line) => !line.includes(':'))
          .join('')
          .replace(/\s/g, '')
        if (PLACEHOLDER.test(body) || body.length < 16) confidence = 0.5
        else if (PEM_BODY.test(body) && body.length >= 64) {
          validated = true
          confidence = 0.99
        }
      }
    }
    add(s, 'secret', 'private_key', start, end, 'critical', confidence, validated)
  }
}

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,1500}\.[A-Za-z0-9_-]{2,6000}\.[A-Za-z0-9_-]{0,1500}(?![A-Za-z0-9_-])/g

function decodeJsonObject(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

function scanJwts(s: Sink): void {
  if (!s.t.includes('eyJ')) return
  const limit = s.out.length + s.max
  for (const m of s.t.matchAll(JWT)) {
    if (s.out.length >= limit) return
    const [header = '', payload = '', signature = ''] = m[0].split('.')
    const h = decodeJsonObject(header)
    // A JWT's header is a JSON object naming its algorithm; anything else is just base64 that starts with "{".
    if (!h || typeof h.alg !== 'string') continue
    const p = decodeJsonObject(payload)
    const confidence = p ? (signature.length >= 16 || h.alg === 'none' ? 0.97 : 0.85) : 0.7
    add(s, 'secret', 'jwt', m.index, m.index + m[0].length, 'high', confidence, true)
  }
}

const BEARER = /(?<![A-Za-z0-9])bearer[ \t]{1,3}[A-Za-z0-9._~+/-]{20,2048}={0,2}(?![A-Za-z0-9._~+/=-])/gi

function scanBearer(s: Sink): void {
  if (!s.lower.includes('bearer')) return
  for (const m of s.t.matchAll(BEARER)) {
    const token = m[0].slice(6).trimStart()
    const start = m.index + m[0].length - token.length
    const r = byEntropy(token)
    if (!r || !/[0-9]/.test(token)) continue
    add(s, 'secret', 'bearer_token', start, start + token.length, 'high', r.confidence, r.validated)
  }
}

/** scheme://user:password@host — the password is the secret. */
const URL_CREDENTIALS = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,15}:\/\/[^\s:/@?#]{1,64}:[^\s/@?#]{1,128}@[A-Za-z0-9[]/g

function scanUrlCredentials(s: Sink): void {
  if (!s.t.includes('://')) return
  for (const m of s.t.matchAll(URL_CREDENTIALS)) {
    const text = m[0]
    const colon = text.indexOf(':', text.indexOf('://') + 3)
    const at = text.length - 2
    const password = text.slice(colon + 1, at)
    if (password.length < 3 || PLACEHOLDER.test(password) || EXAMPLE.test(password)) continue
    if (/^(?:pass|pwd|pw|user|admin|root|guest|anonymous)$/i.test(password)) continue
    const start = m.index + colon + 1
    const random = looksRandom(password)
    add(s, 'secret', 'url_credentials', start, start + password.length, 'high', random ? 0.95 : 0.8, random)
  }
}

// Generic assignments: password = "…", api_key: …, "client_secret": "…", secret_key_base: …, and "my password is …".

const ASSIGNMENT =
  /(password|passwd|passphrase|client[_-]?secret|api[_-]?secret|secret[_-]?key|secret|api[_-]?key|apikey|access[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key|token)[A-Za-z0-9_]{0,20}["']?[ \t]{0,3}(?:=>|:=|===|==|=|:)[ \t]{0,3}/gi
const PASSWORD_SAYS =
  /(?:password|passcode|passphrase|contraseña|mot de passe|passwort|kennwort|senha|пароль|密码|パスワード)(?:[ \t]{1,3}(?:ist|est|es|is|was|era|é|это)[ \t]{0,2}:?[ \t]{1,3}|[ \t]{0,3}[：:=][ \t]{0,3}|[ \t]{0,3}(?:是|は)[ \t]{0,3})/gi
const PASSWORD_SAYS_HINTS = ['pass', 'contrase', 'kennwort', 'senha', 'пароль', '密码', 'パスワード']

const VALUE_STOP = new Set(Array.from('"\'`,;&<>(){}[]|\\', (c) => c.charCodeAt(0)))
const NOT_SECRET_WORD = /^(?:null|none|nil|undefined|true|false|string|str|bool|boolean|int|number|required|optional|env|secret|password|token|empty)$/i
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]{0,64}$/

function readValue(t: string, pos: number): { start: number; end: number; quoted: boolean } | null {
  const q = t.charCodeAt(pos)
  if (q === 34 || q === 39 || q === 96) {
    const start = pos + 1
    let j = start
    while (j < t.length && j - start <= 256) {
      const c = t.charCodeAt(j)
      if (c === q) return { start, end: j, quoted: true }
      if (c === 10 || c === 13) return null
      j++
    }
    return null
  }
  let j = pos
  while (j < t.length && j - pos <= 256) {
    const c = t.charCodeAt(j)
    if (isSpace(c) || VALUE_STOP.has(c)) break
    j++
  }
  if (j - pos > 256) return null
  // An unquoted value followed by "(" or "[" is code (a call or an index), not a literal.
  const next = t.charCodeAt(j)
  if (next === 40 || next === 91) return null
  let end = j
  while (end > pos && '.!?:'.includes(t.charAt(end - 1))) end--
  return { start: pos, end, quoted: false }
}

/** Returns the confidence and validation of a generic secret value, or null when it is not one. */
function judgeValue(value: string, quoted: boolean, password: boolean): { confidence: number; validated: boolean } | null {
  const n = value.length
  if (n < 8 || n > 256) return null
  if (NOT_SECRET_WORD.test(value) || PLACEHOLDER.test(value) || EXAMPLE.test(value)) return null
  const first = value.charCodeAt(0)
  // Variables, templates, paths, URLs, file names.
  if (first === 36 || first === 37 || first === 47 || first === 126 || first === 61 || first === 64) return null
  if (/^(?:\.{1,2}\/|[A-Za-z]:\\|https?:|file:|env:|vault:|arn:|ssm:)/i.test(value)) return null
  if (!quoted) {
    const parts = value.split('.')
    if (parts.length >= 2 && parts.every((p) => IDENT.test(p))) return null // config.db.password, process.env.X
    if (/^[A-Za-z_]{1,256}$/.test(value)) return null // identifiers: userPassword, DB_PASSWORD_VALUE
  }
  if (/^[0-9.:_-]{1,256}$/.test(value)) return null // numbers, versions, dates, times
  if (/\s/.test(value)) return null // quoted prose: "must contain a digit", "Enter the code"
  const k = charClasses(value)
  const h = shannonEntropy(value)
  const random = looksRandom(value)
  if (password) {
    if (k.count < 2 || !(k.digit || k.symbol) || !(k.lower || k.upper) || h < 2.5) return null
    const validated = h >= 3 && k.count >= 3
    return { confidence: validated ? 0.85 : 0.7, validated }
  }
  if (n < 12 || h < 3 || !(k.digit || n >= 32) || !(k.lower || k.upper)) return null
  return { confidence: random ? 0.85 : 0.65, validated: random }
}

function scanAssignments(s: Sink): void {
  const t = s.t
  const lower = s.lower
  // (Keyword boundaries are checked here rather than with a leading look-behind, which would slow every position.)
  const assign = lower.includes('pass') || lower.includes('secret') || lower.includes('key') || lower.includes('token')
  // A keyword inside a value already read is part of that value: skipping it keeps the reading linear.
  let readTo = 0
  if (assign) for (const m of t.matchAll(ASSIGNMENT)) {
    if (m.index < readTo || (m.index > 0 && isAlnum(t.charCodeAt(m.index - 1)))) continue
    const keyword = (m[1] ?? '').toLowerCase()
    const from = m.index + m[0].length
    const v = readValue(t, from)
    readTo = v ? v.end : from + 257
    if (!v) continue
    const password = keyword.startsWith('pass')
    const r = judgeValue(t.slice(v.start, v.end), v.quoted, password)
    if (!r) continue
    const type = password ? 'password' : /^(?:api[_-]?key|apikey|access[_-]?key)$/.test(keyword) ? 'generic_api_key' : 'generic_secret'
    add(s, 'secret', type, v.start, v.end, 'high', r.confidence, r.validated)
  }
  if (!PASSWORD_SAYS_HINTS.some((h) => lower.includes(h))) return
  readTo = 0
  for (const m of t.matchAll(PASSWORD_SAYS)) {
    if (m.index < readTo || (m.index > 0 && isAlnum(t.charCodeAt(m.index - 1)) && isAlpha(t.charCodeAt(m.index)))) continue
    const from = m.index + m[0].length
    const v = readValue(t, from)
    readTo = v ? v.end : from + 257
    if (!v) continue
    const r = judgeValue(t.slice(v.start, v.end), v.quoted, true)
    if (!r) continue
    add(s, 'secret', 'password', v.start, v.end, 'high', r.confidence - 0.05, r.validated)
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Personal data

const isLocalChar = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45
const isDomainChar = (c: number): boolean => isAlnum(c) || c === 46 || c === 45
/** Documentation and reserved domains (RFC 2606 / 6761) hold nobody's address. */
const RESERVED_DOMAIN = /(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost|local)$/i
const FILE_TLD = /^(?:png|jpe?g|gif|svg|webp|ico|bmp|tiff?|pdf|zip|gz|tgz|js|mjs|cjs|ts|tsx|jsx|json|ya?ml|toml|lock|txt|csv|html?|css|scss|vue|wasm|map|exe|dll|so)$/i

function scanEmails(s: Sink): void {
  const t = s.t
  const limit = s.out.length + s.max
  let at = t.indexOf('@')
  while (at >= 0 && s.out.length < limit) {
    const next = t.indexOf('@', at + 1)
    emailAt(s, at)
    at = next
  }
}

function emailAt(s: Sink, at: number): void {
  const t = s.t
  let ls = at
  while (ls > 0 && at - ls < 64 && isLocalChar(t.charCodeAt(ls - 1))) ls--
  if (ls > 0 && isLocalChar(t.charCodeAt(ls - 1))) return // local part longer than 64
  while (ls < at && (t.charCodeAt(ls) === 46 || t.charCodeAt(ls) === 45)) ls++
  if (ls === at || t.charCodeAt(at - 1) === 46) return
  let de = at + 1
  while (de < t.length && de - at <= 253 && isDomainChar(t.charCodeAt(de))) de++
  if (de - at > 253) return
  while (de > at + 1 && (t.charCodeAt(de - 1) === 46 || t.charCodeAt(de - 1) === 45)) de--
  const domain = t.slice(at + 1, de)
  const labels = domain.split('.')
  if (labels.length < 2) return
  for (const l of labels) {
    if (l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-')) return
  }
  const tld = labels[labels.length - 1] ?? ''
  if (!/^[A-Za-z]{2,24}$/.test(tld) || FILE_TLD.test(tld) || RESERVED_DOMAIN.test(domain)) return
  const local = t.slice(ls, at)
  if (local === 'git') return // git@github.com:org/repo
  // user:password@host inside a URL is a credential (url_credentials), not an address.
  let ws = ls
  while (ws > 0 && ls - ws < 256 && !isSpace(t.charCodeAt(ws - 1))) ws--
  if (t.slice(ws, ls).includes('://')) return
  add(s, 'pii', 'email', ls, de, 'medium', 0.9, false)
}

interface CardBrand {
  lengths: number[]
}

function cardBrand(d: string): CardBrand | null {
  const p2 = Number(d.slice(0, 2))
  const p3 = Number(d.slice(0, 3))
  const p4 = Number(d.slice(0, 4))
  const p6 = Number(d.slice(0, 6))
  if (d.startsWith('4')) return { lengths: [13, 16, 19] } // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return { lengths: [16] } // Mastercard
  if (p2 === 34 || p2 === 37) return { lengths: [15] } // American Express
  if (p4 >= 2200 && p4 <= 2204) return { lengths: [16, 17, 18, 19] } // Mir
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925))
    return { lengths: [16, 17, 18, 19] } // Discover
  if (p2 === 62) return { lengths: [16, 17, 18, 19] } // UnionPay
  if (p4 >= 3528 && p4 <= 3589) return { lengths: [16, 17, 18, 19] } // JCB
  if ((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39)
    return { lengths: [14, 15, 16, 17, 18, 19] } // Diners Club
  if ([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].includes(p4)) return { lengths: [13, 14, 15, 16, 17, 18, 19] } // Maestro
  return null
}

/** Published test numbers of the card networks: still reported (someone pasted a card), with lower confidence. */
const TEST_PANS = new Set([
  '4111111111111111', '4242424242424242', '4012888888881881', '4000056655665556', '5555555555554444',
  '5105105105105100', '5200828282828210', '378282246310005', '371449635398431', '6011111111111117',
  '6011000990139424', '3530111333300000', '30569309025904', '38520000023237',
])

function scanCards(s: Sink): void {
  const t = s.t
  const n = t.length
  const nextDigit = /[0-9]/g
  let i = 0
  while (i < n) {
    nextDigit.lastIndex = i
    const d = nextDigit.exec(t)
    if (!d) return
    i = d.index
    const runStart = i
    const groups: number[] = [] // start, end pairs
    let sep = 0
    let j = i
    let tooLong = false
    for (;;) {
      const gs = j
      while (j < n && isDigit(t.charCodeAt(j))) j++
      if (j - runStart > 40) tooLong = true
      else groups.push(gs, j)
      if (j + 1 < n) {
        const c = t.charCodeAt(j)
        if ((c === 32 || c === 45) && (sep === 0 || sep === c) && isDigit(t.charCodeAt(j + 1))) {
          sep = c
          j++
          continue
        }
      }
      break
    }
    i = j
    if (tooLong) continue
    const before = runStart > 0 ? t.charCodeAt(runStart - 1) : 32
    if (isAlpha(before) || before === 95 || before === 46 || before === 44 || before === 47 || before === 45 || before === 43) continue
    const after = j < n ? t.charCodeAt(j) : 32
    if (isAlpha(after) || after === 95 || after === 47) continue
    if ((after === 46 || after === 44 || after === 45) && j + 1 < n && isDigit(t.charCodeAt(j + 1))) continue
    cardWindows(s, groups)
  }
}

function cardWindows(s: Sink, groups: number[]): void {
  const t = s.t
  const k = groups.length / 2
  let a = 0
  while (a < k) {
    let found = -1
    let digits = ''
    const firstLen = (groups[2 * a + 1] ?? 0) - (groups[2 * a] ?? 0)
    for (let b = a; b < k; b++) {
      const gs = groups[2 * b] ?? 0
      const ge = groups[2 * b + 1] ?? 0
      const len = ge - gs
      // One unbroken number of 13–19 digits, or groups: 4 first, then 3–6 (the last may be shorter: 4-4-4-4-3,
      // 4-6-5, 4-6-4).
      if (b > a && (firstLen !== 4 || len > 6 || (len < 3 && b !== k - 1))) break
      digits += t.slice(gs, ge)
      if (digits.length > 19) break
      if (digits.length < 13) continue
      const brand = cardBrand(digits)
      if (brand && brand.lengths.includes(digits.length) && luhnValid(digits) && !/^(\d)\1{12,}$/.test(digits)) {
        const start = groups[2 * a] ?? 0
        add(s, 'pii', 'credit_card', start, ge, 'high', TEST_PANS.has(digits) ? 0.6 : 0.95, true)
        found = b
      }
    }
    a = found >= 0 ? found + 1 : a + 1
  }
}

const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?=[ ]?[A-Z0-9])/g

function scanIbans(s: Sink): void {
  const t = s.t
  for (const m of t.matchAll(IBAN_START)) {
    const len = IBAN_LENGTHS[m[0].slice(0, 2)]
    if (len === undefined) continue
    const start = m.index
    let j = start + 4
    let compact = m[0]
    // Printed form (groups of four separated by single spaces) or electronic form (no spaces).
    const spaced = t.charCodeAt(j) === 32
    while (compact.length < len && j < t.length) {
      const c = t.charCodeAt(j)
      if (c === 32) {
        if (!spaced || (compact.length % 4 !== 0) || !isAlnumUpper(t.charCodeAt(j + 1))) break
        j++
        continue
      }
      if (!isAlnumUpper(c)) break
      compact += t.charAt(j)
      j++
    }
    if (compact.length !== len) continue
    if (j < t.length && isAlnum(t.charCodeAt(j))) continue
    if (!ibanValid(compact)) continue
    add(s, 'pii', 'iban', start, j, 'high', 0.97, true)
  }
}

const isAlnumUpper = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90)

const SSN_DASHED = /(?<![0-9A-Za-z-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9A-Za-z-])/g
const SSN_CONTEXT = /(?<![A-Za-z])(?:ssn|social security(?: number| no\.?| #)?|social-security)(?![A-Za-z])/gi
const SSN_NEAR = /(?<![0-9])[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4}(?![0-9])/
/** Advertised or otherwise well-known numbers that were never anyone's. */
const SSN_KNOWN_FAKE = new Set(['078051120', '219099999', '123456789'])

function ssnPlausible(d: string): boolean {
  const area = Number(d.slice(0, 3))
  return area !== 0 && area !== 666 && area < 900 && d.slice(3, 5) !== '00' && d.slice(5) !== '0000'
}

function scanSsns(s: Sink): void {
  const t = s.t
  const seen = new Set<number>()
  if (s.lower.includes('ssn') || s.lower.includes('social')) {
    for (const m of t.matchAll(SSN_CONTEXT)) {
      const from = m.index + m[0].length
      const v = SSN_NEAR.exec(t.slice(from, from + 40))
      if (!v) continue
      const d = v[0].replace(/[ -]/g, '')
      if (!ssnPlausible(d)) continue
      const start = from + v.index
      seen.add(start)
      const fake = SSN_KNOWN_FAKE.has(d)
      add(s, 'pii', 'us_ssn', start, start + v[0].length, 'high', fake ? 0.5 : 0.95, !fake)
    }
  }
  if (!t.includes('-')) return
  for (const m of t.matchAll(SSN_DASHED)) {
    if (seen.has(m.index)) continue
    const d = m[0].replace(/-/g, '')
    if (!ssnPlausible(d)) continue
    add(s, 'pii', 'us_ssn', m.index, m.index + m[0].length, 'high', SSN_KNOWN_FAKE.has(d) ? 0.4 : 0.7, false)
  }
}

/** UK National Insurance number: two letters (D, F, I, Q, U, V never; O never second), six digits, A–D. */
const NINO = /(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?([A-D])(?![A-Za-z0-9])/g
const NINO_BAD_PREFIX = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'])
const NINO_CONTEXT = /national insurance|\bNINO\b|\bNI (?:number|no)/i

function scanNinos(s: Sink): void {
  const t = s.t
  for (const m of t.matchAll(NINO)) {
    const prefix = m[1] ?? ''
    if (NINO_BAD_PREFIX.has(prefix)) continue
    const context = NINO_CONTEXT.test(t.slice(Math.max(0, m.index - 64), m.index))
    add(s, 'pii', 'uk_nino', m.index, m.index + m[0].length, 'high', context ? 0.95 : 0.75, context)
  }
}

/** International numbers written with a leading "+" (E.164: country code 1–9…, 8–15 digits in all). */
function scanPhones(s: Sink): void {
  const t = s.t
  const limit = s.out.length + s.max
  let plus = t.indexOf('+')
  while (plus >= 0 && plus < t.length && s.out.length < limit) {
    const next = phoneAt(s, plus)
    plus = t.indexOf('+', next)
  }
}

function phoneAt(s: Sink, plus: number): number {
  const t = s.t
  const before = plus > 0 ? t.charCodeAt(plus - 1) : 32
  const first = t.charCodeAt(plus + 1)
  if (isAlnum(before) || before === 43 || before === 41 || !isDigit(first) || first === 48) return plus + 1
  let j = plus + 1
  let digits = 0
  let lastSep = false
  let parens = 0
  while (j < t.length && j - plus <= 24) {
    const c = t.charCodeAt(j)
    if (isDigit(c)) {
      digits++
      lastSep = false
    } else if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) {
      if (c === 40) parens++
      if (c === 41) parens--
      if (lastSep && c !== 40 && t.charCodeAt(j - 1) !== 41) break
      lastSep = true
    } else break
    j++
  }
  let end = j
  while (end > plus + 1 && !isDigit(t.charCodeAt(end - 1))) end--
  const after = end < t.length ? t.charCodeAt(end) : 32
  if (digits < 8 || digits > 15 || parens !== 0 || isAlpha(after) || after === 95 || (j - plus > 24 && isDigit(t.charCodeAt(j)))) return end
  // "+1.5.2024"-style dotted numbers and arithmetic ("+12345678 - 9") are not phone numbers.
  const body = t.slice(plus + 1, end)
  if (/\.[0-9]{1,2}$/.test(body) && !/ /.test(body)) return end
  add(s, 'pii', 'phone', plus, end, 'medium', 0.8, false)
  return end
}

// ---------------------------------------------------------------------------------------------------------------------
// Overlaps

const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 }

function better(a: LeakFinding, b: LeakFinding): boolean {
  if (a.kind !== b.kind) return a.kind === 'secret'
  if (a.validated !== b.validated) return a.validated
  const sa = SEVERITY_RANK[a.severity]
  const sb = SEVERITY_RANK[b.severity]
  if (sa !== sb) return sa > sb
  if (a.confidence !== b.confidence) return a.confidence > b.confidence
  return a.end - a.start > b.end - b.start
}

/** One finding per stretch of text (the better one where two overlap), in text order, at most `max`. */
function resolve(findings: LeakFinding[], max: number): LeakFinding[] {
  if (findings.length === 0) return findings
  findings.sort((a, b) => a.start - b.start || b.end - a.end)
  const kept: LeakFinding[] = []
  for (const f of findings) {
    const last = kept[kept.length - 1]
    if (last && f.start < last.end) {
      if (better(f, last)) kept[kept.length - 1] = f
      continue
    }
    kept.push(f)
  }
  return kept.length > max ? kept.slice(0, max) : kept
}
