/** The upload form's fields: parsed, defaulted and checked, each error naming its field. */
import { ValidationError, type FieldError } from '../../platform/errors.js'
import type { ParserRegistry } from './parsers/registry.js'
import { ASSET_TYPES, type AssetType } from './parsers/types.js'
import { IMPORT_TYPES } from './scans.schemas.js'

export interface UploadOptions {
  scannerType: string
  assetType: AssetType | undefined
  assessmentName: string | undefined
  importType: (typeof IMPORT_TYPES)[number]
  phoenix: { clientId: string; clientSecret: string; apiUrl: string | undefined } | undefined
  enableBatching: boolean
  fixData: boolean
  anonymize: boolean
  justTags: boolean
  createEmptyAssets: boolean
  createInventoryAssets: boolean
  maxBatchSize: number
  maxPayloadMb: number
  webhookUrl: string | undefined
  webhookHeaders: Record<string, string> | undefined
}

export const FORM_FIELDS = [
  'scanner_type', 'asset_type', 'assessment_name', 'import_type', 'phoenix_client_id', 'phoenix_client_secret', 'phoenix_api_url',
  'enable_batching', 'fix_data', 'anonymize', 'just_tags', 'create_empty_assets', 'create_inventory_assets', 'max_batch_size',
  'max_payload_mb', 'webhook_url', 'webhook_headers',
] as const

/** Headers a webhook caller may not set: they would break the request or forge our signature. */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'webhook-id', 'webhook-timestamp', 'webhook-signature', 'proxy-authorization',
])

function httpUrl(value: string): boolean {
  try {
    const u = new URL(value)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

export function parseUploadForm(fields: Record<string, string>, registry: ParserRegistry): UploadOptions {
  const errors: FieldError[] = []
  const bad = (field: string, message: string) => errors.push({ field, message })
  for (const name of Object.keys(fields)) {
    if (!(FORM_FIELDS as readonly string[]).includes(name)) bad(name, `is not a form field of this endpoint (allowed: file, ${FORM_FIELDS.join(', ')})`)
  }
  const get = (name: string) => {
    const v = fields[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }
  const bool = (name: string, dflt: boolean) => {
    const v = get(name)?.toLowerCase()
    if (v === undefined) return dflt
    if (['true', '1', 'yes', 'on'].includes(v)) return true
    if (['false', '0', 'no', 'off'].includes(v)) return false
    bad(name, 'must be a boolean (true or false)')
    return dflt
  }
  const number = (name: string, dflt: number, min: number, max: number, integer: boolean) => {
    const v = get(name)
    if (v === undefined) return dflt
    const n = Number(v)
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      bad(name, `must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`)
      return dflt
    }
    return n
  }

  let scannerType = get('scanner_type') ?? 'auto'
  if (scannerType.toLowerCase() === 'auto') scannerType = 'auto'
  else {
    const parser = registry.resolve(scannerType)
    if (parser) scannerType = parser.id
    else bad('scanner_type', `unknown scanner "${scannerType.slice(0, 60)}"; use auto or one of: ${registry.names().join(', ')}`)
  }

  const assetTypeRaw = get('asset_type')?.toUpperCase()
  let assetType: AssetType | undefined
  if (assetTypeRaw !== undefined) {
    if ((ASSET_TYPES as readonly string[]).includes(assetTypeRaw)) assetType = assetTypeRaw as AssetType
    else bad('asset_type', `must be one of ${ASSET_TYPES.join(', ')}`)
  }

  const assessmentName = get('assessment_name')
  if (assessmentName !== undefined && assessmentName.length > 200) bad('assessment_name', 'must be at most 200 characters')

  const importTypeRaw = (get('import_type') ?? 'new').toLowerCase()
  const importType = (IMPORT_TYPES as readonly string[]).includes(importTypeRaw) ? importTypeRaw as UploadOptions['importType'] : 'new'
  if (importType !== importTypeRaw) bad('import_type', `must be one of ${IMPORT_TYPES.join(', ')}`)

  const clientId = get('phoenix_client_id')
  const clientSecret = get('phoenix_client_secret')
  const apiUrl = get('phoenix_api_url')
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    bad(clientId === undefined ? 'phoenix_client_id' : 'phoenix_client_secret', 'phoenix_client_id and phoenix_client_secret go together')
  }
  if (apiUrl !== undefined && !httpUrl(apiUrl)) bad('phoenix_api_url', 'must be an http(s) URL')
  if (apiUrl !== undefined && clientId === undefined) bad('phoenix_api_url', 'needs phoenix_client_id and phoenix_client_secret')

  const webhookUrl = get('webhook_url')
  if (webhookUrl !== undefined && (!httpUrl(webhookUrl) || webhookUrl.length > 2048)) bad('webhook_url', 'must be an http(s) URL of at most 2048 characters')
  let webhookHeaders: Record<string, string> | undefined
  const rawHeaders = get('webhook_headers')
  if (rawHeaders !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(rawHeaders)
    } catch {
      bad('webhook_headers', 'must be a JSON object of header names to string values')
    }
    if (parsed !== undefined) {
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad('webhook_headers', 'must be a JSON object of header names to string values')
      else {
        const entries = Object.entries(parsed as Record<string, unknown>)
        if (entries.length > 20) bad('webhook_headers', 'at most 20 headers')
        webhookHeaders = {}
        for (const [k, v] of entries) {
          if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/.test(k)) bad(`webhook_headers.${k.slice(0, 40)}`, 'is not a valid header name')
          else if (RESERVED_HEADERS.has(k.toLowerCase())) bad(`webhook_headers.${k}`, 'is set by VeriVault and cannot be overridden')
          else if (typeof v !== 'string' || /[\r\n]/.test(v) || v.length > 4096) bad(`webhook_headers.${k}`, 'must be a single-line string of at most 4096 characters')
          else webhookHeaders[k] = v
        }
      }
    }
    if (webhookUrl === undefined) bad('webhook_headers', 'needs webhook_url')
  }

  const options: UploadOptions = {
    scannerType, assetType, assessmentName, importType,
    phoenix: clientId !== undefined && clientSecret !== undefined ? { clientId, clientSecret, apiUrl } : undefined,
    enableBatching: bool('enable_batching', true),
    fixData: bool('fix_data', true),
    anonymize: bool('anonymize', false),
    justTags: bool('just_tags', false),
    createEmptyAssets: bool('create_empty_assets', false),
    createInventoryAssets: bool('create_inventory_assets', false),
    maxBatchSize: number('max_batch_size', 500, 1, 10000, true),
    maxPayloadMb: number('max_payload_mb', 25, 0.01, 100, false),
    webhookUrl, webhookHeaders,
  }
  if (errors.length > 0) {
    throw new ValidationError(`Invalid form field ${errors[0]!.field}: ${errors[0]!.message}`, errors, 'bad_request', 400)
  }
  return options
}
