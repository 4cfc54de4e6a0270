import type { Logger } from 'pino'
import type { JobCatalog } from './catalog.js'
import { backoffDelay } from './catalog.js'
import type { Fence, JobRepository, JobRow } from './jobs.repository.js'
import type { JobContext, JobState } from './types.js'
import { UnrecoverableJobError } from './types.js'
import { pgJson } from '../db/storable-text.js'

type AbortCause = 'timeout' | 'cancelled' | 'lease_lost'

interface Running {
  row: JobRow
  fence: Fence
  controller: AbortController
  cause: AbortCause | undefined
  /** Set once the outcome is being written; a lease check racing the write must not abort it. */
  finishing: boolean
  done: Promise<void>
}

export interface ExecutorOptions {
  catalog: JobCatalog
  repository: JobRepository
  logger: Logger
  leaseMs: number
  heartbeatMs: number
  /** After aborting a handler, how long to wait for it to settle before recording the outcome anyway. */
  abortGraceMs: number
  /** Called with the row after each transition this executor writes. */
  onTransition(row: JobRow, previous: JobState): void
  onProgress(row: JobRow, progress: unknown): void
}

/**
 * Runs claimed rows: one handler call per claim, with its timeout, its abort signal, and lease renewal for every
 * running job of this process in one statement per heartbeat (which also carries cancellation across processes).
 * Nothing a handler does can reject out of `run`.
 */
export class JobExecutor {
  private readonly running = new Map<string, Running>()
  private heartbeat: NodeJS.Timeout | undefined
  private beating = false
  private lockedBy: string | undefined

  constructor(private readonly opts: ExecutorOptions) {}

  get size(): number { return this.running.size }

  /** The claims of this executor are made as `lockedBy`. */
  begin(lockedBy: string): void {
    this.lockedBy = lockedBy
    this.heartbeat ??= setInterval(() => { void this.renewLeases() }, this.opts.heartbeatMs)
  }

  /** Stops renewing leases: whatever still runs is left to lease recovery (its late writes are fenced off). */
  end(): void {
    if (this.heartbeat) clearInterval(this.heartbeat)
    this.heartbeat = undefined
  }

  /** Resolves when nothing runs or after `timeoutMs`; says whether everything finished. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return true
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) })
    const all = Promise.all([...this.running.values()].map((r) => r.done)).then(() => true as const)
    try {
      const idle = await Promise.race([all, timedOut])
      return idle && this.running.size === 0
    } finally {
      clearTimeout(timer)
    }
  }

  /** Aborts a job running here because it was cancelled. */
  cancelLocal(id: string): boolean {
    const r = this.running.get(id)
    if (!r) return false
    this.abort(r, 'cancelled')
    return true
  }

  /** Runs one claimed row to its outcome; resolves with the row as written, or undefined if the claim was lost. */
  run(row: JobRow): Promise<JobRow | undefined> {
    const fence: Fence = { id: row.id, lockedBy: row.locked_by ?? '', attempts: row.attempts }
    let settle!: () => void
    const entry: Running = { row, fence, controller: new AbortController(), cause: undefined, finishing: false, done: new Promise((r) => { settle = r }) }
    this.running.set(row.id, entry)
    return this.execute(entry)
      .catch((err: unknown) => {
        this.opts.logger.error({ err, job_id: row.id, job_name: row.name }, 'job bookkeeping failed; the lease will expire and the job will be retried')
        return undefined
      })
      .finally(() => {
        if (this.running.get(row.id) === entry) this.running.delete(row.id)
        settle()
      })
  }

  private abort(r: Running, cause: AbortCause): void {
    if (r.controller.signal.aborted || r.finishing) return
    r.cause = cause
    const message = cause === 'timeout' ? `job timed out after ${r.row.timeout_ms} ms`
      : cause === 'cancelled' ? 'job was cancelled' : 'job lease was lost to another worker'
    r.controller.abort(new DOMException(message, cause === 'timeout' ? 'TimeoutError' : 'AbortError'))
  }

  private async execute(r: Running): Promise<JobRow | undefined> {
    const { row, fence } = r
    const { catalog, repository } = this.opts
    const entry = catalog.get(row.name)
    if (!entry) return this.write(r, repository.fail(fence, `no handler is registered for job "${row.name}"`, false, 0))
    if (!entry.validator.check(row.payload)) {
      const details = entry.validator.errors(row.payload).map((d) => `${d.field}: ${d.message}`).join('; ')
      return this.write(r, repository.fail(fence, `stored payload no longer matches the job's schema: ${details}`, false, 0))
    }
    this.opts.onTransition(row, 'queued')

    const logger = this.opts.logger.child({ job_id: row.id, job_name: row.name, tenant_id: row.tenant_id, attempt: row.attempts })
    const signal = r.controller.signal
    const ctx: JobContext<unknown> = {
      id: row.id, tenantId: row.tenant_id, payload: row.payload, attempt: row.attempts, signal, logger,
      progress: async (value: unknown) => {
        const json = pgJson(value ?? null)
        if (await repository.setProgress(fence, json)) this.opts.onProgress(row, JSON.parse(json) as unknown)
      },
    }

    const timer = setTimeout(() => this.abort(r, 'timeout'), row.timeout_ms)
    type Settled = { ok: true; value: unknown } | { ok: false; error: unknown }
    const settled: Promise<Settled> = Promise.resolve()
      .then(() => entry.def.handler(ctx))
      .then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))
    // Once aborted, the handler gets a grace period to unwind; a handler that ignores its signal does not hold the slot.
    let grace: NodeJS.Timeout | undefined
    const abandoned = new Promise<undefined>((resolve) => {
      const onAbort = () => { grace = setTimeout(() => resolve(undefined), this.opts.abortGraceMs) }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
    const outcome = await Promise.race([settled, abandoned])
    clearTimeout(timer)
    clearTimeout(grace)
    r.finishing = true

    switch (r.cause) {
      case 'lease_lost':
        logger.warn('job lease was lost while running; its outcome is discarded (another worker owns the job now)')
        return undefined
      case 'cancelled':
        return this.write(r, repository.finishCancelled(fence))
      case 'timeout':
        logger.warn({ timeout_ms: row.timeout_ms }, 'job timed out')
        return this.write(r, repository.fail(fence, `timed out after ${row.timeout_ms} ms`, true, backoffDelay(row.backoff_ms, row.attempts)))
      case undefined:
        break
    }
    if (outcome === undefined) return undefined // unreachable: only an abort ends the race without a settlement
    if (outcome.ok) {
      let json: string | null
      try {
        json = outcome.value === undefined ? null : pgJson(outcome.value)
      } catch (err) {
        return this.write(r, repository.fail(fence, `job result is not JSON-serialisable: ${errorText(err)}`, false, 0))
      }
      return this.write(r, repository.complete(fence, json))
    }
    const retry = !(outcome.error instanceof UnrecoverableJobError)
    logger.warn({ err: outcome.error, retry }, 'job attempt failed')
    return this.write(r, repository.fail(fence, errorText(outcome.error), retry, backoffDelay(row.backoff_ms, row.attempts)))
  }

  private async write(r: Running, update: Promise<JobRow | undefined>): Promise<JobRow | undefined> {
    r.finishing = true
    const row = await update
    if (row) this.opts.onTransition(row, 'running')
    else this.opts.logger.warn({ job_id: r.row.id }, 'job claim was lost before its outcome was written; outcome discarded')
    return row
  }

  private async renewLeases(): Promise<void> {
    if (this.beating || this.running.size === 0 || !this.lockedBy) return
    this.beating = true
    try {
      const mine = [...this.running.values()].filter((r) => r.fence.lockedBy === this.lockedBy)
      const held = new Map((await this.opts.repository.renewLeases(this.lockedBy, mine.map((r) => r.row.id), this.opts.leaseMs)).map((h) => [h.id, h]))
      for (const r of mine) {
        const h = held.get(r.row.id)
        if (!h || h.attempts !== r.fence.attempts) this.abort(r, 'lease_lost')
        else if (h.cancel_requested) this.abort(r, 'cancelled')
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not renew job leases')
    } finally {
      this.beating = false
    }
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  if (typeof err === 'string') return err
  try { return JSON.stringify(err) ?? String(err) } catch { return String(err) }
}
