/** The SDK's result cache: least-recently-used eviction plus a time-to-live per entry. */
import { sha256Hex } from '../platform/util/hash.js'

/** Options of {@link LruTtlCache}. */
export interface LruTtlCacheOptions {
  /** Most entries kept; the least recently used is evicted beyond it. */
  maxEntries: number
  /** Lifetime of an entry in milliseconds. */
  ttlMs: number
  /** Clock (milliseconds), for tests. Default Date.now. */
  now?: (() => number) | undefined
}

/** A Map-backed LRU cache whose entries also expire after a fixed TTL. */
export class LruTtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>()
  readonly #maxEntries: number
  readonly #ttlMs: number
  readonly #now: () => number

  /** @param options Capacity, TTL and clock. */
  constructor(options: LruTtlCacheOptions) {
    this.#maxEntries = Math.max(1, Math.floor(options.maxEntries))
    this.#ttlMs = options.ttlMs
    this.#now = options.now ?? Date.now
  }

  /** The live value under `key` (marking it most recently used), or undefined when absent or expired. */
  get(key: string): V | undefined {
    const e = this.#entries.get(key)
    if (!e) return undefined
    this.#entries.delete(key)
    if (e.expires <= this.#now()) return undefined
    this.#entries.set(key, e)
    return e.value
  }

  /** Stores `value` under `key` as the most recently used entry, evicting the least recently used beyond capacity. */
  set(key: string, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, { value, expires: this.#now() + this.#ttlMs })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (oldest.done) break
      this.#entries.delete(oldest.value)
    }
  }

  /** Removes every entry. */
  clear(): void {
    this.#entries.clear()
  }

  /** Entries held (expired ones are dropped lazily, so they may still be counted). */
  get size(): number {
    return this.#entries.size
  }
}

/** Cache key of a prompt for a tier: `<tier>:<sha256 hex of the prompt>` (the prompt itself is never kept as a key). */
export function cacheKey(tier: string, prompt: string): string {
  return `${tier}:${sha256Hex(prompt)}`
}
