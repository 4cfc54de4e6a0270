/** Per-key (per-host) concurrency limit: at most `limit` holders per key, the rest wait in FIFO order. */
export interface HostLimiter {
  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void>
  active(key: string): number
  waiting(key: string): number
}

interface Slot { active: number; queue: (() => void)[] }

export function createHostLimiter(limit: number): HostLimiter {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`perHostConcurrency must be a positive integer, got ${limit}`)
  const slots = new Map<string, Slot>()

  function releaser(key: string, slot: Slot): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = slot.queue.shift()
      if (next) { next(); return } // hand the slot over directly: active stays the same
      slot.active--
      if (slot.active === 0) slots.delete(key)
    }
  }

  return {
    acquire(key, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      let slot = slots.get(key)
      if (!slot) { slot = { active: 0, queue: [] }; slots.set(key, slot) }
      const s = slot
      if (s.active < limit) { s.active++; return Promise.resolve(releaser(key, s)) }
      return new Promise((resolve, reject) => {
        const grant = () => { signal?.removeEventListener('abort', onAbort); resolve(releaser(key, s)) }
        const onAbort = () => {
          const i = s.queue.indexOf(grant)
          if (i >= 0) s.queue.splice(i, 1)
          reject(signal?.reason)
        }
        s.queue.push(grant)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    active: (key) => slots.get(key)?.active ?? 0,
    waiting: (key) => slots.get(key)?.queue.length ?? 0,
  }
}
