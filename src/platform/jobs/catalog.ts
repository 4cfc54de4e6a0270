import { ValidationError } from '../errors.js'
import { compileValidator, type Validator } from '../validation.js'
import type { Scope } from './jobs.repository.js'
import type { JobDefinition } from './types.js'

export const DEFAULT_QUEUE = 'default'
export const DEFAULT_MAX_ATTEMPTS = 3
export const DEFAULT_BACKOFF_MS = 1000
export const DEFAULT_TIMEOUT_MS = 300_000

/** A registered definition with its defaults applied and its payload validator compiled. */
export interface CatalogEntry {
  def: JobDefinition
  queue: string
  maxAttempts: number
  backoffMs: number
  timeoutMs: number
  validator: Validator
}

const INT_MAX = 2_147_483_647

function positiveInt(name: string, field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > INT_MAX) {
    throw new Error(`job "${name}": ${field} must be an integer between ${min} and ${INT_MAX}`)
  }
  return value
}

/** The job definitions one process knows: what it may enqueue and what it may run. */
export class JobCatalog {
  private readonly entries = new Map<string, CatalogEntry>()

  register(def: JobDefinition): CatalogEntry {
    if (!def.name || def.name.length > 200) throw new Error('a job definition needs a name of 1..200 characters')
    const existing = this.entries.get(def.name)
    // The same definition again is harmless (HTTP and worker start-up paths may both register the catalog).
    if (existing?.def === def) return existing
    if (existing) throw new Error(`job "${def.name}" is registered twice with different definitions`)
    const queue = def.queue ?? DEFAULT_QUEUE
    // BullMQ uses the queue name in Redis keys, where ':' separates parts.
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(queue)) throw new Error(`job "${def.name}": queue must match [A-Za-z0-9_.-]{1,100}`)
    const entry: CatalogEntry = {
      def,
      queue,
      maxAttempts: positiveInt(def.name, 'maxAttempts', def.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1),
      backoffMs: positiveInt(def.name, 'backoffMs', def.backoffMs ?? DEFAULT_BACKOFF_MS, 0),
      timeoutMs: positiveInt(def.name, 'timeoutMs', def.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1),
      validator: compileValidator(def.payload),
    }
    this.entries.set(def.name, entry)
    return entry
  }

  get(name: string): CatalogEntry | undefined {
    return this.entries.get(name)
  }

  /** The entry for `name`, or an error for a job this process does not know (a programming error). */
  require(name: string): CatalogEntry {
    const entry = this.entries.get(name)
    if (!entry) throw new Error(`job "${name}" is not registered`)
    return entry
  }

  /** Throws a ValidationError naming each bad field. */
  validate(entry: CatalogEntry, payload: unknown): void {
    if (entry.validator.check(payload)) return
    const details = entry.validator.errors(payload)
    const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ')
    throw new ValidationError(`Invalid payload for job ${entry.def.name}: ${summary}`, details)
  }

  scope(): Scope {
    const all = [...this.entries.values()]
    return { queues: [...new Set(all.map((e) => e.queue))], names: all.map((e) => e.def.name) }
  }

  queues(): string[] {
    return this.scope().queues
  }
}

const MAX_BACKOFF_MS = 3_600_000

/**
 * Delay before the attempt after `attempt` (1-based): base·2^(attempt-1), capped at an hour, with "equal jitter"
 * (half fixed, half random) so that jobs failing together do not retry together.
 */
export function backoffDelay(baseMs: number, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + random() * (exp / 2))
}
