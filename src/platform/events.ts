/**
 * Fan-out of live events (job logs and progress for WebSockets) to every process: Redis pub/sub when VV_REDIS_URL
 * is set, an in-process emitter otherwise. Delivery is best effort — the durable state lives in Postgres, and a
 * subscriber that joins late reads it from there first.
 */
import { EventEmitter } from 'node:events'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'

export type EventListener = (message: unknown) => void

export interface EventBus {
  readonly kind: 'redis' | 'local'
  publish(channel: string, message: unknown): Promise<void>
  /** Resolves once the subscription is active; call the returned function to unsubscribe. */
  subscribe(channel: string, listener: EventListener): Promise<() => void>
  close(): Promise<void>
}

export function createLocalEventBus(): EventBus {
  const emitter = new EventEmitter()
  emitter.setMaxListeners(0)
  return {
    kind: 'local',
    async publish(channel, message) {
      emitter.emit(channel, message)
    },
    async subscribe(channel, listener) {
      emitter.on(channel, listener)
      return () => { emitter.off(channel, listener) }
    },
    async close() {
      emitter.removeAllListeners()
    },
  }
}

/** One subscriber connection per process, channels subscribed while they have listeners. */
export function createRedisEventBus(redis: Redis, prefix: string, logger: Logger): EventBus {
  const local = new EventEmitter()
  local.setMaxListeners(0)
  let sub: Redis | undefined
  const key = (channel: string) => `${prefix}:events:${channel}`

  function subscriber(): Redis {
    if (!sub) {
      sub = redis.duplicate({ lazyConnect: false })
      sub.on('error', (err) => logger.warn({ err: err.message }, 'redis event subscriber error'))
      sub.on('message', (ch: string, raw: string) => {
        let message: unknown
        try {
          message = JSON.parse(raw)
        } catch {
          return
        }
        local.emit(ch, message)
      })
    }
    return sub
  }

  return {
    kind: 'redis',
    async publish(channel, message) {
      await redis.publish(key(channel), JSON.stringify(message))
    },
    async subscribe(channel, listener) {
      const k = key(channel)
      const first = local.listenerCount(k) === 0
      local.on(k, listener)
      if (first) await subscriber().subscribe(k)
      return () => {
        local.off(k, listener)
        if (local.listenerCount(k) === 0) void sub?.unsubscribe(k).catch(() => undefined)
      }
    },
    async close() {
      local.removeAllListeners()
      if (sub) await sub.quit().catch(() => sub?.disconnect())
    },
  }
}
