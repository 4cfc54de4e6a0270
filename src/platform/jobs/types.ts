import type { Logger } from 'pino'
import type { Static, TSchema } from 'typebox'
import type { JobState } from '../db/schema.js'

export type { JobState } from '../db/schema.js'

/** What a handler sees while it runs one attempt of a job. */
export interface JobContext<P> {
  readonly id: string
  readonly tenantId: string | null
  readonly payload: P
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number
  /**
   * Aborted when the job times out, is cancelled, or this worker lost the job's lease (another worker now owns
   * it). Pass it to outbound calls and check it between steps; once aborted, the handler's result is discarded.
   */
  readonly signal: AbortSignal
  /** Persists `jobs.progress` (any JSON value) and emits a progress event. */
  progress(value: unknown): Promise<void>
  readonly logger: Logger
}

/**
 * One entry of the job catalog: a name, a payload schema checked on enqueue, and the retry/timeout policy.
 * Build it with `defineJob` so the handler's payload type is inferred from the schema.
 */
export interface JobDefinition<T extends TSchema = TSchema> {
  /** Unique across the catalog; stored in `jobs.name`. */
  readonly name: string
  /** Jobs of one queue share workers; defaults to `default`. */
  readonly queue?: string
  readonly payload: T
  /** Runs in total, first run included (default 3). */
  readonly maxAttempts?: number
  /** Base of the exponential backoff between attempts, before jitter (default 1000). */
  readonly backoffMs?: number
  /** Per attempt; the signal aborts and the attempt counts as failed (default 300000). */
  readonly timeoutMs?: number
  /** Resolves with the job's result (stored as JSON); throws to fail the attempt. */
  handler(ctx: JobContext<Static<T>>): Promise<unknown>
}

export function defineJob<T extends TSchema>(def: JobDefinition<T>): JobDefinition<T> {
  return def
}

/** Thrown by a handler for a failure that a retry cannot fix: the job fails at once. */
export class UnrecoverableJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UnrecoverableJobError'
  }
}

/** A job's state row, shaped for APIs and events (timestamps as ISO 8601 strings). */
export interface JobRecord {
  id: string
  tenant_id: string | null
  queue: string
  name: string
  payload: unknown
  state: JobState
  attempts: number
  max_attempts: number
  progress: unknown
  result: unknown
  last_error: string | null
  cancel_requested: boolean
  created_at: string
  updated_at: string
  started_at: string | null
  finished_at: string | null
  run_at: string
}

export interface EnqueueOptions {
  /** Owner of the job; null (the default) for system jobs. */
  tenantId?: string | null
  /** Earliest start; `delayMs` is added to it when both are given. */
  runAt?: Date
  delayMs?: number
}

export interface ListJobsOptions {
  /** Required so that a caller cannot forget tenant scoping; null lists system jobs. */
  tenantId: string | null
  state?: JobState | readonly JobState[]
  name?: string
  limit: number
  offset: number
}

export interface JobList { total: number; items: JobRecord[] }

export type CancelOutcome = 'cancelled' | 'cancelling' | 'not_found' | 'finished'

export type JobEvent =
  /** A transition made by this process (enqueue, claim, finish, cancel, lease recovery). */
  | { type: 'state'; job: JobRecord; previous: JobState | null }
  | { type: 'progress'; jobId: string; tenantId: string | null; name: string; progress: unknown }

export type JobEventListener = (event: JobEvent) => void

export interface StartOptions {
  /** Jobs this process runs at once, over all queues. */
  concurrency: number
  /** Prefix of this process's lock owner id (`locked_by`); defaults to host:pid. */
  workerId?: string
}

export interface StopOptions {
  /** How long to wait for running handlers before leaving them to lease recovery. */
  timeoutMs?: number
}

/**
 * The job system. Postgres rows are the source of truth in every implementation; an implementation only decides
 * how a worker learns that a row is due (polling, or BullMQ dispatch).
 *
 * Every process that enqueues must `register` the definitions it enqueues (payload check, defaults); only
 * processes that run jobs call `start`.
 */
export interface JobQueue {
  readonly kind: 'postgres' | 'bullmq'
  register(def: JobDefinition): void
  enqueue<T extends TSchema>(job: JobDefinition<T>, payload: Static<T>, opts?: EnqueueOptions): Promise<JobRecord>
  enqueue(name: string, payload: unknown, opts?: EnqueueOptions): Promise<JobRecord>
  /** With a tenantId (or null), another tenant's job is undefined, as is a malformed id. */
  get(id: string, tenantId?: string | null): Promise<JobRecord | undefined>
  list(opts: ListJobsOptions): Promise<JobList>
  /**
   * queued → cancelled at once; running → cancel_requested, the handler's signal aborts (in whichever process
   * runs it, within one heartbeat) and the job ends cancelled.
   */
  cancel(id: string, tenantId?: string | null): Promise<CancelOutcome>
  start(opts: StartOptions): Promise<void>
  /** Whether this process runs jobs (start was called and stop was not). */
  readonly working: boolean
  /** Stops taking jobs, waits for running ones (aborting nothing), releases connections. Not restartable. */
  stop(opts?: StopOptions): Promise<void>
  /** Returns an unsubscribe function. Listener errors are logged and swallowed. */
  onEvent(listener: JobEventListener): () => void
}
