import { hostname } from 'node:os'
import { randomBytes, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Static, TSchema } from 'typebox'
import type { Database } from '../db/database.js'
import { ValidationError } from '../errors.js'
import { JobCatalog } from './catalog.js'
import { JobExecutor } from './executor.js'
import { jobRepository, toJobRecord, type JobRepository, type JobRow } from './jobs.repository.js'
import type {
  CancelOutcome, EnqueueOptions, JobDefinition, JobEvent, JobEventListener, JobList, JobQueue, JobRecord, JobState,
  ListJobsOptions, StartOptions, StopOptions,
} from './types.js'

export interface JobQueueOptions {
  logger: Logger
  /** How often an idle worker looks for due jobs (Postgres mode) — local enqueues wake it at once. Default 500. */
  pollIntervalMs?: number
  /** How long a claim stays valid without renewal; a dead worker's jobs resume after this. Default 30000. */
  leaseMs?: number
  /** Lease renewal and cross-process cancel check. Default min(2000, leaseMs / 3). */
  heartbeatMs?: number
  /** How often expired leases are looked for. Default 5000. */
  recoverIntervalMs?: number
  /** stop() waits this long for running handlers by default. Default 30000. */
  stopTimeoutMs?: number
  /** After a timeout or cancel aborts a handler, how long it may take to unwind. Default 5000. */
  abortGraceMs?: number
}

export interface ResolvedOptions {
  pollIntervalMs: number
  leaseMs: number
  heartbeatMs: number
  recoverIntervalMs: number
  stopTimeoutMs: number
  abortGraceMs: number
}

function resolveOptions(o: JobQueueOptions): ResolvedOptions {
  const leaseMs = o.leaseMs ?? 30_000
  const heartbeatMs = o.heartbeatMs ?? Math.min(2000, Math.floor(leaseMs / 3))
  if (heartbeatMs >= leaseMs) throw new Error('job queue: heartbeatMs must be shorter than leaseMs')
  return {
    pollIntervalMs: o.pollIntervalMs ?? 500,
    leaseMs,
    heartbeatMs,
    recoverIntervalMs: o.recoverIntervalMs ?? 5000,
    stopTimeoutMs: o.stopTimeoutMs ?? 30_000,
    abortGraceMs: o.abortGraceMs ?? 5000,
  }
}

/** What both implementations share; they differ only in how a worker learns that a row is due. */
export abstract class BaseJobQueue implements JobQueue {
  abstract readonly kind: 'postgres' | 'bullmq'
  protected readonly catalog = new JobCatalog()
  protected readonly repository: JobRepository
  protected readonly executor: JobExecutor
  protected readonly logger: Logger
  protected readonly options: ResolvedOptions
  protected lockedBy = ''
  protected state: 'idle' | 'started' | 'stopping' | 'stopped' = 'idle'
  private readonly listeners = new Set<JobEventListener>()
  private stopping: Promise<void> | undefined
  /**
   * Events of jobs whose enqueue has not emitted `queued` yet: a worker of this process can claim a row before the
   * inserting call resumes, and listeners must still see queued → running in that order.
   */
  private readonly heldBack = new Map<string, JobEvent[]>()

  constructor(db: Database, opts: JobQueueOptions) {
    this.logger = opts.logger
    this.options = resolveOptions(opts)
    this.repository = jobRepository(db)
    this.executor = new JobExecutor({
      catalog: this.catalog,
      repository: this.repository,
      logger: this.logger,
      leaseMs: this.options.leaseMs,
      heartbeatMs: this.options.heartbeatMs,
      abortGraceMs: this.options.abortGraceMs,
      onTransition: (row, previous) => this.transitioned(row, previous),
      onProgress: (row, progress) => this.emit({ type: 'progress', jobId: row.id, tenantId: row.tenant_id, name: row.name, progress }),
    })
  }

  register(def: JobDefinition): void {
    this.catalog.register(def)
    this.registered(def)
  }

  enqueue<T extends TSchema>(job: JobDefinition<T>, payload: Static<T>, opts?: EnqueueOptions): Promise<JobRecord>
  enqueue(name: string, payload: unknown, opts?: EnqueueOptions): Promise<JobRecord>
  async enqueue(job: string | JobDefinition, payload: unknown, opts: EnqueueOptions = {}): Promise<JobRecord> {
    const entry = this.catalog.require(typeof job === 'string' ? job : job.name)
    this.catalog.validate(entry, payload)
    const delayMs = opts.delayMs ?? 0
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new ValidationError('delayMs must be a non-negative number', [{ field: 'delayMs', message: 'must be >= 0' }])
    if (opts.runAt && Number.isNaN(opts.runAt.getTime())) throw new ValidationError('runAt is not a valid date', [{ field: 'runAt', message: 'must be a valid date' }])
    const id = randomUUID()
    this.heldBack.set(id, [])
    let row: JobRow
    try {
      row = await this.repository.insert({
        id, tenantId: opts.tenantId ?? null, queue: entry.queue, name: entry.def.name, payload,
        maxAttempts: entry.maxAttempts, backoffMs: entry.backoffMs, timeoutMs: entry.timeoutMs, runAt: opts.runAt, delayMs,
      })
    } catch (err) {
      this.heldBack.delete(id)
      throw err
    }
    const held = this.heldBack.get(id) ?? []
    this.heldBack.delete(id)
    this.emit({ type: 'state', job: toJobRecord(row), previous: null })
    for (const event of held) this.emit(event)
    await this.dispatch(row)
    return toJobRecord(row)
  }

  async get(id: string, tenantId?: string | null): Promise<JobRecord | undefined> {
    const row = await this.repository.get(id, tenantId)
    return row && toJobRecord(row)
  }

  async list(opts: ListJobsOptions): Promise<JobList> {
    const states = opts.state === undefined ? undefined : typeof opts.state === 'string' ? [opts.state] : opts.state
    const limit = Math.max(0, Math.min(1000, Math.floor(opts.limit)))
    const offset = Math.max(0, Math.floor(opts.offset))
    const res = await this.repository.list({ tenantId: opts.tenantId, states, name: opts.name, limit, offset })
    return { total: res.total, items: res.rows.map(toJobRecord) }
  }

  async cancel(id: string, tenantId?: string | null): Promise<CancelOutcome> {
    const res = await this.repository.cancel(id, tenantId)
    if (res.outcome === 'cancelled') {
      this.emit({ type: 'state', job: toJobRecord(res.row), previous: 'queued' })
      await this.withdraw(res.row)
    } else if (res.outcome === 'cancelling') {
      // Here at once; in another process its next heartbeat sees cancel_requested.
      this.executor.cancelLocal(id)
    }
    return res.outcome
  }

  onEvent(listener: JobEventListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  get working(): boolean {
    return this.state === 'started'
  }

  async start(opts: StartOptions): Promise<void> {
    if (this.state !== 'idle') throw new Error(`job queue cannot start: it is ${this.state}`)
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error('job queue: concurrency must be a positive integer')
    this.state = 'started'
    this.lockedBy = `${opts.workerId ?? `${hostname()}:${process.pid}`}:${randomBytes(4).toString('hex')}`
    this.executor.begin(this.lockedBy)
    await this.startProcessing(opts.concurrency)
    this.logger.info({ kind: this.kind, worker: this.lockedBy, concurrency: opts.concurrency, queues: this.catalog.queues() }, 'job workers started')
  }

  stop(opts: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts)
    return this.stopping
  }

  private async shutdown(opts: StopOptions): Promise<void> {
    const wasStarted = this.state === 'started'
    this.state = 'stopping'
    try {
      if (wasStarted) {
        await this.stopTaking()
        const idle = await this.executor.waitIdle(opts.timeoutMs ?? this.options.stopTimeoutMs)
        if (!idle) this.logger.warn({ running: this.executor.size }, 'job workers stopped with jobs still running; they resume elsewhere once their leases expire')
      }
    } finally {
      this.executor.end()
      await this.release()
      this.state = 'stopped'
    }
  }

  /** Expired leases → queued (or failed/cancelled); requeued rows are dispatched again. */
  protected async recoverExpired(): Promise<void> {
    const rows = await this.repository.recoverExpired(this.catalog.scope())
    if (rows.length > 0) this.logger.warn({ jobs: rows.map((r) => r.id) }, 'recovered jobs whose worker stopped renewing its lease')
    for (const row of rows) this.transitioned(row, 'running')
  }

  protected emit(event: JobEvent): void {
    const held = this.heldBack.get(event.type === 'state' ? event.job.id : event.jobId)
    if (held && !(event.type === 'state' && event.previous === null)) {
      held.push(event)
      return
    }
    for (const listener of this.listeners) {
      try { listener(event) } catch (err) { this.logger.warn({ err }, 'job event listener failed') }
    }
  }

  private transitioned(row: JobRow, previous: JobState): void {
    this.emit({ type: 'state', job: toJobRecord(row), previous })
    if (row.state === 'queued') void this.dispatch(row)
    if (previous === 'running') this.slotFreed()
  }

  /** A definition was registered (BullMQ starts a worker for a new queue). */
  protected registered(_def: JobDefinition): void {}
  /** A row is (again) queued: make sure a worker will see it when due. Must not throw. */
  protected abstract dispatch(row: JobRow): Promise<void>
  /** A queued row was cancelled: drop any pending dispatch (best effort). */
  protected abstract withdraw(row: JobRow): Promise<void>
  /** A running job finished here (or went back to the queue). */
  protected abstract slotFreed(): void
  protected abstract startProcessing(concurrency: number): Promise<void>
  /** Stop claiming new jobs; running handlers continue. */
  protected abstract stopTaking(): Promise<void>
  /** Close connections and timers (running handlers have finished or been left to lease recovery). */
  protected abstract release(): Promise<void>
}
