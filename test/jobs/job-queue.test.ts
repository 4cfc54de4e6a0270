import { Redis } from 'ioredis'
import { pino } from 'pino'
import { Type } from 'typebox'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/platform/db/database.js'
import { ValidationError } from '../../src/platform/errors.js'
import {
  createJobQueue, defineJob, UnrecoverableJobError, type CreateJobQueueOptions, type JobEvent, type JobQueue, type JobRecord,
} from '../../src/platform/jobs/index.js'
import { testDatabase } from '../helpers/db.js'
import { aborted, deferred, insertJobRow, insertTenant, uniqueName, waitFor } from './helpers.js'

const REDIS_URL = process.env.VV_TEST_REDIS_URL
const modes = [
  { mode: 'postgres', redisUrl: undefined },
  { mode: 'bullmq', redisUrl: REDIS_URL },
] as const

for (const { mode, redisUrl } of modes) {
  describe.skipIf(mode === 'bullmq' && !redisUrl)(`job queue (${mode})`, () => {
    let db: Database
    const prefix = uniqueName('vvtest')
    const queues: JobQueue[] = []
    const logger = pino({ level: 'silent' })

    /** A queue over the shared test database with fast timings; stopped after each test. */
    function newQueue(extra: Partial<CreateJobQueueOptions> = {}): JobQueue {
      const q = createJobQueue(db, {
        redisUrl, prefix, logger, pollIntervalMs: 20, leaseMs: 1000, heartbeatMs: 50, recoverIntervalMs: 50,
        reconcileIntervalMs: 500, stopTimeoutMs: 2000, abortGraceMs: 200, ...extra,
      })
      queues.push(q)
      return q
    }

    async function settled(q: JobQueue, id: string, state: JobRecord['state'] = 'completed'): Promise<JobRecord> {
      const job = await waitFor(async () => {
        const j = await q.get(id)
        return j && j.state !== 'queued' && j.state !== 'running' ? j : undefined
      }, `job ${id} to finish`)
      expect(job.state, `job ended ${job.state} (last_error: ${job.last_error})`).toBe(state)
      return job
    }

    beforeAll(async () => { db = (await testDatabase()).db })
    afterEach(async () => { await Promise.all(queues.splice(0).map((q) => q.stop({ timeoutMs: 500 }))) })
    afterAll(async () => {
      if (!redisUrl) return
      const redis = new Redis(redisUrl)
      const keys = await redis.keys(`${prefix}:*`)
      if (keys.length > 0) await redis.del(...keys)
      await redis.quit()
    })

    it('validates the payload on enqueue and names the bad field', async () => {
      const q = newQueue()
      const tenantId = await insertTenant(db)
      const job = defineJob({
        name: 'typed', queue: uniqueName('q'), payload: Type.Object({ file: Type.String(), size: Type.Integer() }),
        async handler() { return null },
      })
      q.register(job)
      const err = await q.enqueue('typed', { file: 'a.json', size: 'big' }, { tenantId }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ValidationError)
      expect((err as ValidationError).message).toContain('size')
      expect((err as ValidationError).details).toEqual([expect.objectContaining({ field: 'size' })])
      const missing = await q.enqueue(job, { size: 1 } as never, { tenantId }).catch((e: unknown) => e)
      expect((missing as ValidationError).details).toEqual([expect.objectContaining({ field: 'file', message: 'field required' })])
      expect((await q.list({ tenantId, limit: 10, offset: 0 })).total).toBe(0)
      await expect(q.enqueue('never-registered', {})).rejects.toThrow(/not registered/)
    })

    it('runs a job to completion, stores its result and emits each transition', async () => {
      const q = newQueue()
      const job = defineJob({
        name: 'add', queue: uniqueName('q'), payload: Type.Object({ a: Type.Number(), b: Type.Number() }),
        async handler(ctx) { return { sum: ctx.payload.a + ctx.payload.b, attempt: ctx.attempt } },
      })
      q.register(job)
      const events: JobEvent[] = []
      q.onEvent((e) => events.push(e))
      await q.start({ concurrency: 2 })
      const queued = await q.enqueue(job, { a: 2, b: 3 })
      expect(queued).toMatchObject({ state: 'queued', attempts: 0, max_attempts: 3, tenant_id: null, payload: { a: 2, b: 3 } })
      const done = await settled(q, queued.id)
      expect(done).toMatchObject({ result: { sum: 5, attempt: 1 }, attempts: 1, last_error: null })
      expect(done.started_at).not.toBeNull()
      expect(done.finished_at).not.toBeNull()
      await waitFor(() => events.length >= 3, 'events')
      expect(events.map((e) => (e.type === 'state' ? `${e.previous ?? '-'}>${e.job.state}` : e.type))).toEqual(['->queued', 'queued>running', 'running>completed'])
    })

    it('retries with backoff, then fails with the last error after max attempts', async () => {
      const q = newQueue()
      const starts: number[] = []
      q.register(defineJob({
        name: 'flaky', queue: uniqueName('q'), payload: Type.Object({}), maxAttempts: 3, backoffMs: 40,
        async handler(ctx) { starts.push(Date.now()); throw new Error(`boom ${ctx.attempt}`) },
      }))
      await q.start({ concurrency: 1 })
      const { id } = await q.enqueue('flaky', {})
      const failed = await settled(q, id, 'failed')
      expect(failed).toMatchObject({ attempts: 3, last_error: 'boom 3', result: null })
      expect(starts).toHaveLength(3)
      // Equal jitter: the n-th retry waits at least half of 40·2^(n-1) ms.
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(20 - 5)
      expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(40 - 5)
    })

    it('completes on a retry after failed attempts', async () => {
      const q = newQueue()
      q.register(defineJob({
        name: 'eventually', queue: uniqueName('q'), payload: Type.Object({}), maxAttempts: 3, backoffMs: 5,
        async handler(ctx) { if (ctx.attempt < 3) throw new Error(`not yet ${ctx.attempt}`); return 'ok' },
      }))
      await q.start({ concurrency: 1 })
      const { id } = await q.enqueue('eventually', {})
      expect(await settled(q, id)).toMatchObject({ attempts: 3, result: 'ok' })
    })

    it('fails at once on an UnrecoverableJobError and survives handlers that throw synchronously or non-errors', async () => {
      const q = newQueue()
      const queue = uniqueName('q')
      q.register(defineJob({ name: 'fatal', queue, payload: Type.Object({}), async handler() { throw new UnrecoverableJobError('bad input file') } }))
      q.register(defineJob({ name: 'sync-throw', queue, payload: Type.Object({}), maxAttempts: 1, handler: (() => { throw 'plain string' }) as () => Promise<unknown> }))
      await q.start({ concurrency: 2 })
      const a = await q.enqueue('fatal', {})
      const b = await q.enqueue('sync-throw', {})
      expect(await settled(q, a.id, 'failed')).toMatchObject({ attempts: 1, last_error: 'bad input file' })
      expect(await settled(q, b.id, 'failed')).toMatchObject({ attempts: 1, last_error: 'plain string' })
    })

    it('aborts the signal on timeout and counts it as a failed attempt', async () => {
      const q = newQueue()
      const reasons: string[] = []
      q.register(defineJob({
        name: 'slow', queue: uniqueName('q'), payload: Type.Object({}), timeoutMs: 80, maxAttempts: 2, backoffMs: 5,
        async handler(ctx) {
          const reason = await aborted(ctx.signal)
          reasons.push((reason as Error).name)
          throw reason
        },
      }))
      await q.start({ concurrency: 1 })
      const { id } = await q.enqueue('slow', {})
      const failed = await settled(q, id, 'failed')
      expect(failed.attempts).toBe(2)
      expect(failed.last_error).toMatch(/timed out after 80 ms/)
      expect(reasons).toEqual(['TimeoutError', 'TimeoutError'])
    })

    it('gives up on a handler that ignores its aborted signal after the grace period', async () => {
      const q = newQueue({ abortGraceMs: 50 })
      q.register(defineJob({
        name: 'stuck', queue: uniqueName('q'), payload: Type.Object({}), timeoutMs: 50, maxAttempts: 1,
        handler: () => new Promise(() => {}),
      }))
      await q.start({ concurrency: 1 })
      const { id } = await q.enqueue('stuck', {})
      expect((await settled(q, id, 'failed')).last_error).toMatch(/timed out/)
    })

    it('cancels a queued job at once; it never runs', async () => {
      const q = newQueue()
      const queue = uniqueName('q')
      const ran: string[] = []
      q.register(defineJob({ name: 'later', queue, payload: Type.Object({}), async handler(ctx) { ran.push(ctx.id) } }))
      const { id } = await q.enqueue('later', {}, { delayMs: 150 })
      expect(await q.cancel(id)).toBe('cancelled')
      const job = await q.get(id)
      expect(job).toMatchObject({ state: 'cancelled', cancel_requested: true })
      expect(job?.finished_at).not.toBeNull()
      expect(await q.cancel(id)).toBe('finished')
      await q.start({ concurrency: 1 })
      // A job enqueued later and due later completes, so the cancelled one had every chance to run.
      const probe = await q.enqueue('later', {}, { delayMs: 300 })
      await settled(q, probe.id)
      expect(ran).toEqual([probe.id])
    })

    it('cancels a running job: its signal aborts and it ends cancelled', async () => {
      const q = newQueue()
      const started = deferred()
      let reason: unknown
      q.register(defineJob({
        name: 'long', queue: uniqueName('q'), payload: Type.Object({}),
        async handler(ctx) { started.resolve(); reason = await aborted(ctx.signal); throw reason },
      }))
      await q.start({ concurrency: 1 })
      const { id } = await q.enqueue('long', {})
      await started.promise
      expect(await q.cancel(id)).toBe('cancelling')
      const job = await settled(q, id, 'cancelled')
      expect(job.attempts).toBe(1)
      expect((reason as Error).name).toBe('AbortError')
      expect(await q.cancel(id)).toBe('finished')
    })

    it('carries a cancel from another process to the running handler', async () => {
      const worker = newQueue()
      const api = newQueue() // not started: like a `serve --no-workers` node
      const def = defineJob({
        name: 'remote', queue: uniqueName('q'), payload: Type.Object({}),
        async handler(ctx) { started.resolve(); await aborted(ctx.signal); return 'stopped early' },
      })
      const started = deferred()
      worker.register(def)
      api.register(def)
      await worker.start({ concurrency: 1 })
      const { id } = await api.enqueue(def, {})
      await started.promise
      expect(await api.cancel(id)).toBe('cancelling')
      expect(await settled(api, id, 'cancelled')).toMatchObject({ result: null })
    })

    it('persists progress and emits progress events', async () => {
      const q = newQueue()
      const gate = deferred()
      q.register(defineJob({
        name: 'import', queue: uniqueName('q'), payload: Type.Object({}),
        async handler(ctx) {
          await ctx.progress({ percent: 50, step: 'parsing' })
          await gate.promise
          await ctx.progress({ percent: 100, step: 'done' })
          return { imported: 3 }
        },
      }))
      const progress: unknown[] = []
      q.onEvent((e) => { if (e.type === 'progress') progress.push(e.progress) })
      await q.start({ concurrency: 1 })
      const { id } = await q.enqueue('import', {})
      const running = await waitFor(async () => {
        const j = await q.get(id)
        return j?.progress ? j : undefined
      }, 'progress')
      expect(running).toMatchObject({ state: 'running', progress: { percent: 50, step: 'parsing' } })
      gate.resolve()
      expect(await settled(q, id)).toMatchObject({ progress: { percent: 100, step: 'done' }, result: { imported: 3 } })
      expect(progress).toEqual([{ percent: 50, step: 'parsing' }, { percent: 100, step: 'done' }])
    })

    it('scopes get, list and cancel to the tenant', async () => {
      const q = newQueue()
      const [a, b] = [await insertTenant(db), await insertTenant(db)]
      q.register(defineJob({ name: 'scoped', queue: uniqueName('q'), payload: Type.Object({ n: Type.Integer() }), async handler() { return null } }))
      const job = await q.enqueue('scoped', { n: 1 }, { tenantId: a, delayMs: 60_000 })
      expect(await q.get(job.id, a)).toMatchObject({ id: job.id, tenant_id: a })
      expect(await q.get(job.id, b)).toBeUndefined()
      expect(await q.get(job.id, null)).toBeUndefined()
      expect(await q.get('not-a-uuid', a)).toBeUndefined()
      expect(await q.cancel(job.id, b)).toBe('not_found')
      expect(await q.cancel('not-a-uuid')).toBe('not_found')
      expect((await q.get(job.id))?.state).toBe('queued')
      expect(await q.list({ tenantId: b, limit: 10, offset: 0 })).toEqual({ total: 0, items: [] })
      const listed = await q.list({ tenantId: a, state: 'queued', limit: 10, offset: 0 })
      expect(listed.total).toBe(1)
      expect(listed.items.map((j) => j.id)).toEqual([job.id])
      expect((await q.list({ tenantId: a, state: ['completed', 'failed'], limit: 10, offset: 0 })).total).toBe(0)
      expect(await q.cancel(job.id, a)).toBe('cancelled')
    })

    it('resumes a job whose worker died mid-run (expired lease) in a new instance', async () => {
      const queue = uniqueName('q')
      const id = await insertJobRow(db, { queue, name: 'resumable', payload: { step: 1 }, state: 'running', attempts: 1, lockedBy: 'dead-host:1:abcd' })
      const q = newQueue()
      const attempts: number[] = []
      q.register(defineJob({ name: 'resumable', queue, payload: Type.Object({ step: Type.Integer() }), async handler(ctx) { attempts.push(ctx.attempt); return 'resumed' } }))
      await q.start({ concurrency: 1 })
      expect(await settled(q, id)).toMatchObject({ attempts: 2, result: 'resumed', last_error: expect.stringMatching(/interrupted/) })
      expect(attempts).toEqual([2])
    })

    it('fails, rather than loops, a job interrupted on its last attempt', async () => {
      const queue = uniqueName('q')
      const id = await insertJobRow(db, { queue, name: 'fragile', payload: {}, state: 'running', attempts: 2, maxAttempts: 2, lockedBy: 'dead-host:1:abcd' })
      const q = newQueue()
      q.register(defineJob({ name: 'fragile', queue, payload: Type.Object({}), async handler() { return 'unreachable' } }))
      await q.start({ concurrency: 1 })
      expect((await settled(q, id, 'failed')).last_error).toMatch(/interrupted/)
    })

    it('runs queued work left by a previous process (including rows never dispatched)', async () => {
      const queue = uniqueName('q')
      const def = defineJob({ name: 'leftover', queue, payload: Type.Object({ n: Type.Integer() }), async handler(ctx) { return ctx.payload.n } })
      const before = newQueue()
      before.register(def)
      const enqueued = await before.enqueue(def, { n: 1 })
      await before.stop()
      // Inserted without any dispatch, as if the process died between the insert and the Redis write.
      const raw = await insertJobRow(db, { queue, name: 'leftover', payload: { n: 2 }, state: 'queued' })
      const after = newQueue()
      after.register(def)
      await after.start({ concurrency: 2 })
      expect((await settled(after, enqueued.id)).result).toBe(1)
      expect((await settled(after, raw)).result).toBe(2)
    })

    it('stop() waits for running handlers; an instance stopped mid-job is resumed by another and its late outcome discarded', async () => {
      const queue = uniqueName('q')
      const gates = [deferred(), deferred()]
      const runs: number[] = []
      const def = defineJob({
        name: 'handover', queue, payload: Type.Object({}), maxAttempts: 3,
        async handler(ctx) { runs.push(ctx.attempt); await gates[runs.length - 1]!.promise; return `attempt ${ctx.attempt}` },
      })
      // Graceful: stop waits for the handler to finish.
      const graceful = newQueue()
      graceful.register(def)
      await graceful.start({ concurrency: 1 })
      const first = await graceful.enqueue(def, {})
      await waitFor(() => runs.length === 1, 'first run')
      const stopping = graceful.stop({ timeoutMs: 5000 })
      setTimeout(() => gates[0]!.resolve(), 50)
      await stopping
      expect((await graceful.get(first.id))?.state).toBe('completed')

      // Timed out: the handler keeps running in the stopped instance, its lease expires, another instance resumes it.
      gates[0] = deferred()
      gates.push(deferred())
      runs.length = 0
      const old = newQueue({ leaseMs: 300 })
      old.register(def)
      await old.start({ concurrency: 1 })
      const second = await old.enqueue(def, {})
      await waitFor(() => runs.length === 1, 'run in old instance')
      await old.stop({ timeoutMs: 20 })
      expect((await old.get(second.id))?.state).toBe('running')
      const fresh = newQueue()
      fresh.register(def)
      await fresh.start({ concurrency: 1 })
      await waitFor(() => runs.length === 2, 'resumed run')
      gates[0]!.resolve() // the orphan finishes now: fenced off, it must not overwrite anything
      gates[1]!.resolve()
      const done = await settled(fresh, second.id)
      expect(done).toMatchObject({ attempts: 2, result: 'attempt 2' })
      expect(runs).toEqual([1, 2])
    })

    it('never runs a job twice across instances sharing the database', async () => {
      const queue = uniqueName('q')
      const runs: string[] = []
      const def = defineJob({
        name: 'once', queue, payload: Type.Object({ i: Type.Integer() }),
        async handler(ctx) { runs.push(ctx.id); await new Promise((r) => setTimeout(r, 5)); return ctx.payload.i },
      })
      const [a, b] = [newQueue(), newQueue()]
      a.register(def)
      b.register(def)
      await Promise.all([a.start({ concurrency: 3, workerId: 'a' }), b.start({ concurrency: 3, workerId: 'b' })])
      const ids = (await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).enqueue(def, { i })))).map((j) => j.id)
      for (const id of ids) await settled(a, id)
      expect(runs.length).toBe(30)
      expect(new Set(runs).size).toBe(30)
      expect(new Set(runs)).toEqual(new Set(ids))
    })
  })
}
