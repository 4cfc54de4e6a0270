/** Small TTL cache; entries also leave when the map grows past its bound. */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; until: number }>()
  constructor(private readonly ttlMs: number, private readonly max = 10_000) {}
  get(k: string): V | undefined {
    const e = this.map.get(k)
    if (!e) return undefined
    if (e.until < Date.now()) { this.map.delete(k); return undefined }
    return e.value
  }
  set(k: string, value: V, ttlMs = this.ttlMs) {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!)
    this.map.set(k, { value, until: Date.now() + ttlMs })
  }
  delete(k: string) { this.map.delete(k) }
  clear() { this.map.clear() }
}
