import { DelayedError, Queue, Worker, type Job } from 'bullmq'
import type { Database } from '../db/database.js'
import { BaseJobQueue, type JobQueueOptions } from './base-queue.js'
import type { JobRow } from './jobs.repository.js'
import type { JobDefinition } from './types.js'

export interface BullMQJobQueueOptions extends JobQueueOptions {
  redisUrl: string
  /** Prefix of every BullMQ key (tests isolate by it). Default `verivault`. */
  prefix?: string
  /** How often queued rows that are overdue are handed to BullMQ again (lost dispatches). Default 60000. */
  reconcileIntervalMs?: number
  /** Longest an enqueue waits for Redis before leaving the dispatch to reconciliation. Default 5000. */
  dispatchTimeoutMs?: number
}

interface Dispatch { id: string }

/** The BullMQ job id of one dispatch of a row: a retry is a new dispatch while the previous one is still active. */
const bullJobId = (row: JobRow) => `${row.id}_${row.attempts}`

/**
 * BullMQ as the dispatcher, Postgres as the record. Enqueue inserts the row, then adds a BullMQ job (id = row id
 * and attempt count, delayed until run_at). A BullMQ worker claims the row with the same statement rules as the
 * Postgres queue, runs the handler through the shared executor and writes the outcome; retries are our own
 * (BullMQ attempts: 1), dispatched again with their backoff as delay, so both modes behave the same.
 *
 * Rows are never lost to Redis: start() re-dispatches every queued row (BullMQ ignores a job id it already
 * holds), a timer re-dispatches rows overdue by a reconcile interval, and expired leases are recovered as in the
 * Postgres queue.
 */
export class BullMQJobQueue extends BaseJobQueue {
  readonly kind = 'bullmq' as const
  private readonly producers = new Map<string, Queue<Dispatch>>()
  private readonly workers = new Map<string, Worker<Dispatch>>()
  private readonly timers: NodeJS.Timeout[] = []
  private slots = new Slots(1)
  private concurrency = 1
  private readonly connection: { url: string }
  private readonly prefix: string
  private readonly reconcileIntervalMs: number
  private readonly dispatchTimeoutMs: number

  constructor(db: Database, opts: BullMQJobQueueOptions) {
    super(db, opts)
    this.connection = { url: opts.redisUrl }
    this.prefix = opts.prefix ?? 'verivault'
    this.reconcileIntervalMs = opts.reconcileIntervalMs ?? 60_000
    this.dispatchTimeoutMs = opts.dispatchTimeoutMs ?? 5000
  }

  protected override registered(def: JobDefinition): void {
    if (this.state === 'started') this.startWorker(this.catalog.require(def.name).queue)
  }

  protected async dispatch(row: JobRow): Promise<void> {
    const producer = this.producer(row.queue)
    if (!producer) {
      this.logger.debug({ job_id: row.id }, 'job queue stopped; dispatch left to reconciliation')
      return
    }
    const delay = Math.max(0, new Date(row.run_at).getTime() - Date.now())
    const added = producer.add(row.name, { id: row.id }, { jobId: bullJobId(row), delay, attempts: 1, removeOnComplete: true, removeOnFail: true })
    try {
      await withTimeout(added, this.dispatchTimeoutMs)
    } catch (err) {
      added.catch(() => {})
      this.logger.warn({ err, job_id: row.id }, 'could not hand job to BullMQ; it stays queued in Postgres and is dispatched by reconciliation')
    }
  }

  protected async withdraw(row: JobRow): Promise<void> {
    const producer = this.producer(row.queue)
    await producer?.remove(bullJobId(row)).catch(() => 0)
  }

  protected slotFreed(): void {}

  protected async startProcessing(concurrency: number): Promise<void> {
    this.concurrency = concurrency
    this.slots = new Slots(concurrency)
    await this.recoverExpired()
    // In the background: with Redis down it would wait for the connection, and start() must not hang on that.
    void this.reconcile(undefined).catch((err: unknown) => this.logger.warn({ err }, 'reconciling queued jobs with BullMQ failed; the periodic pass will retry'))
    for (const queue of this.catalog.queues()) this.startWorker(queue)
    this.every(this.options.recoverIntervalMs, () => this.recoverExpired())
    this.every(this.reconcileIntervalMs, () => this.reconcile(new Date(Date.now() - this.reconcileIntervalMs)))
  }

  protected async stopTaking(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t)
    this.slots.close()
    await Promise.all([...this.workers.values()].map((w) => w.pause(true).catch(() => {})))
  }

  protected async release(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t)
    // Always forced: our handlers are done or abandoned to lease recovery, so a BullMQ delivery left active here
    // only finds a finished or re-dispatched row when it is redelivered. (A graceful close also waits forever
    // while Redis is unreachable.)
    const closing = [...this.workers.values()].map((w) => w.close(true))
    closing.push(...[...this.producers.values()].map((q) => q.close()))
    this.workers.clear()
    this.producers.clear()
    await Promise.all(closing.map((c) => withTimeout(c, 5000).catch((err: unknown) => this.logger.warn({ err }, 'closing a BullMQ connection failed'))))
  }

  private producer(queue: string): Queue<Dispatch> | undefined {
    if (this.state === 'stopped') return undefined
    let q = this.producers.get(queue)
    if (!q) {
      // Fail fast when Redis is down: the row is durable, reconciliation dispatches it later.
      q = new Queue<Dispatch>(queue, { connection: { ...this.connection, enableOfflineQueue: false }, prefix: this.prefix })
      q.on('error', (err) => this.logger.warn({ err: err.message, queue }, 'BullMQ queue error'))
      this.producers.set(queue, q)
    }
    return q
  }

  private startWorker(queue: string): void {
    if (this.workers.has(queue)) return
    const worker = new Worker<Dispatch>(queue, (job, token) => this.process(job, token), {
      connection: this.connection, prefix: this.prefix, concurrency: this.concurrency, name: this.lockedBy, autorun: true,
    })
    worker.on('error', (err) => this.logger.warn({ err: err.message, queue }, 'BullMQ worker error'))
    this.workers.set(queue, worker)
  }

  /** One BullMQ delivery: claim the row if it is still ours to run, run it, and let BullMQ forget the delivery. */
  private async process(job: Job<Dispatch>, token: string | undefined): Promise<void> {
    const redeliver = async (inMs: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + inMs, token)
      throw new DelayedError()
    }
    // Another version of the service may know this job; hand it back rather than failing it.
    if (!this.catalog.get(job.name)) return redeliver(5000)
    const release = await this.slots.acquire()
    if (!release) return redeliver(0)
    let claim
    try {
      claim = await this.repository.claimOne(job.data.id, this.catalog.scope(), this.lockedBy, this.options.leaseMs)
    } catch (err) {
      release()
      this.logger.warn({ err, job_id: job.data.id }, 'could not claim job; redelivering')
      return redeliver(1000)
    }
    try {
      if (claim.kind === 'not_due') return await redeliver(claim.waitMs)
      // Cancelled, finished, or claimed by another worker through another delivery: nothing to do.
      if (claim.kind === 'gone') return
      await this.executor.run(claim.row)
    } finally {
      release()
    }
  }

  /** Hands queued rows (all of them, or those due before `dueBefore`) to BullMQ; known job ids are ignored. */
  private async reconcile(dueBefore: Date | undefined): Promise<void> {
    let afterId: string | undefined
    let total = 0
    for (;;) {
      const rows = await this.repository.queued(this.catalog.scope(), { afterId, dueBefore, limit: 500 })
      if (rows.length === 0) break
      const byQueue = new Map<string, JobRow[]>()
      for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row])
      for (const [queue, group] of byQueue) {
        const producer = this.producer(queue)
        if (!producer) return
        const now = Date.now()
        await producer.addBulk(group.map((row) => ({
          name: row.name, data: { id: row.id },
          opts: { jobId: bullJobId(row), delay: Math.max(0, new Date(row.run_at).getTime() - now), attempts: 1, removeOnComplete: true, removeOnFail: true },
        })))
      }
      total += rows.length
      afterId = rows.at(-1)!.id
      if (rows.length < 500) break
    }
    if (total > 0) this.logger.debug({ total }, 'reconciled queued jobs with BullMQ')
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false
    this.timers.push(setInterval(() => {
      if (busy) return
      busy = true
      fn().catch((err: unknown) => this.logger.warn({ err }, 'job maintenance failed')).finally(() => { busy = false })
    }, ms))
  }
}

/** Counts this process's running jobs over all BullMQ workers, so `concurrency` means the same as in Postgres mode. */
class Slots {
  private waiters: ((release: (() => void) | undefined) => void)[] = []
  private closed = false
  constructor(private free: number) {}

  acquire(): Promise<(() => void) | undefined> {
    if (this.closed) return Promise.resolve(undefined)
    if (this.free > 0) {
      this.free--
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  close(): void {
    this.closed = true
    for (const w of this.waiters.splice(0)) w(undefined)
  }

  private releaser(): () => void {
    let done = false
    return () => {
      if (done) return
      done = true
      const next = this.waiters.shift()
      if (next && !this.closed) next(this.releaser())
      else this.free++
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms) }),
  ]).finally(() => clearTimeout(timer))
}
