import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Format } from 'typebox/format'
import { AppError, type FieldError } from './errors.js'

interface RawError { keyword: string; instancePath: string; params: Record<string, unknown>; message: string }

/**
 * The `date-time` format of every validator (Ajv for route schemas, TypeBox for the services'): RFC 3339, but not
 * year 0000, which RFC 3339 allows and PostgreSQL (no year 0: 1 BC precedes AD 1) refuses, failing the write or query.
 */
export function storableDateTime(isRfc3339: (s: string) => boolean): (s: string) => boolean {
  return (s) => !s.startsWith('0000') && isRfc3339(s)
}
Format.Set('date-time', storableDateTime(Format.IsDateTime))

/**
 * Most levels of nested objects and arrays a JSON request body may have. Every contract's bodies nest a few levels;
 * a body nested thousands deep parses, but overflows the stack of whatever walks it next (serialisers, hashing).
 */
export const MAX_JSON_DEPTH = 64

/** Whether a parsed JSON value nests objects and arrays more than `levels` deep (recursion bounded by `levels`). */
export function nestsDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false
  if (levels === 0) return true
  if (Array.isArray(value)) {
    for (const v of value) if (nestsDeeperThan(v, levels - 1)) return true
    return false
  }
  for (const k in value) if (nestsDeeperThan((value as Record<string, unknown>)[k], levels - 1)) return true
  return false
}

/** A JSON body nested deeper than MAX_JSON_DEPTH: rendered like malformed JSON (400, or the family's own code). */
export class JsonTooDeepError extends AppError {
  constructor() { super(400, 'malformed_json', `Request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`) }
}

/** `/items/2/title` → `items[2].title`, under an optional prefix. */
export function pathOf(instancePath: string, prefix = ''): string {
  const p = instancePath.split('/').filter(Boolean).map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('')
  return `${prefix}${p}`.replace(/^\./, '')
}

/** One readable message per failing keyword. */
function describe(e: RawError): string {
  const p = e.params
  switch (e.keyword) {
    case 'required': return 'field required'
    case 'additionalProperties': return 'is not an allowed field'
    case 'type': return `must be ${p.type === 'object' ? 'an object' : p.type === 'array' ? 'an array' : `a ${String(p.type)}`}`
    case 'minLength': return Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`
    case 'maxLength': return `must be at most ${String(p.limit)} characters`
    case 'pattern': return `must match ${String(p.pattern)}`
    case 'format': return p.format === 'date-time' ? 'must be an RFC 3339 date-time with a UTC offset, in year 0001 or later, e.g. 2026-02-22T10:00:00Z' : `must be a valid ${String(p.format)}`
    case 'enum': return `must be one of ${(p.allowedValues as unknown[] | undefined)?.join(', ') ?? 'the allowed values'}`
    case 'minimum': return `must be >= ${String(p.limit)}`
    case 'maximum': return `must be <= ${String(p.limit)}`
    default: return e.message
  }
}

/**
 * A compiled TypeBox validator that reports field errors with readable paths. Required and unknown-property
 * errors name the field itself (`title`, not the parent object).
 */
export function compileValidator<T extends TSchema>(schema: T) {
  const compiled = Compile(schema)
  return {
    check: (value: unknown): boolean => compiled.Check(value),
    errors(value: unknown, prefix = ''): FieldError[] {
      const out: FieldError[] = []
      const seen = new Set<string>()
      for (const raw of compiled.Errors(value) as Iterable<RawError>) {
        // TypeBox reports an unknown property twice (as `false` schema and as additionalProperties).
        if (raw.keyword === 'boolean') continue
        const base = pathOf(raw.instancePath, prefix)
        const names = raw.keyword === 'required' ? (raw.params.requiredProperties as string[])
          : raw.keyword === 'additionalProperties' ? (raw.params.additionalProperties as string[])
          : [undefined]
        for (const name of names) {
          const field = name === undefined ? (base || '(body)') : base ? `${base}.${name}` : name
          const message = describe(raw)
          const key = `${field}|${message}`
          if (seen.has(key)) continue
          seen.add(key)
          out.push({ field, message })
        }
      }
      return out
    },
  }
}
export type Validator = ReturnType<typeof compileValidator>
