import type { Database } from '../db/database.js'
import { BaseJobQueue, type JobQueueOptions } from './base-queue.js'
import type { JobRow } from './jobs.repository.js'

/**
 * The in-process job queue: the `jobs` rows are the queue. An idle worker polls for due rows (and is woken at
 * once by enqueues and finished jobs of this process, and at the run_at of retries it scheduled); claims use
 * `for update skip locked`, so any number of processes can share the table.
 */
export class PostgresJobQueue extends BaseJobQueue {
  readonly kind = 'postgres' as const
  private concurrency = 1
  private loop: Promise<void> | undefined
  private wakePending = false
  private wakeNow: (() => void) | undefined
  private lastRecovery = 0
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(db: Database, opts: JobQueueOptions) {
    super(db, opts)
  }

  protected async dispatch(row: JobRow): Promise<void> {
    if (this.state !== 'started' || !this.catalog.get(row.name)) return
    const wait = new Date(row.run_at).getTime() - Date.now()
    if (wait <= 0) { this.wake(); return }
    // A poll would find it too; waking at run_at keeps short delays (retries with small backoff) precise.
    if (wait < this.options.pollIntervalMs * 20) {
      const t = setTimeout(() => { this.timers.delete(t); this.wake() }, wait)
      t.unref()
      this.timers.add(t)
    }
  }

  protected async withdraw(): Promise<void> {}

  protected slotFreed(): void { this.wake() }

  protected async startProcessing(concurrency: number): Promise<void> {
    this.concurrency = concurrency
    this.loop = this.run()
  }

  protected async stopTaking(): Promise<void> {
    this.wake()
    await this.loop
  }

  protected async release(): Promise<void> {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private wake(): void {
    this.wakePending = true
    this.wakeNow?.()
  }

  private async idle(ms: number): Promise<void> {
    if (!this.wakePending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms)
        function done() { clearTimeout(timer); resolve() }
        this.wakeNow = done
      })
      this.wakeNow = undefined
    }
    this.wakePending = false
  }

  private async run(): Promise<void> {
    while (this.state === 'started') {
      let more = false
      try {
        if (Date.now() - this.lastRecovery >= this.options.recoverIntervalMs) {
          this.lastRecovery = Date.now()
          await this.recoverExpired()
        }
        const free = this.concurrency - this.executor.size
        if (free > 0) {
          const rows = await this.repository.claimDue(this.catalog.scope(), this.lockedBy, this.options.leaseMs, free)
          for (const row of rows) void this.executor.run(row)
          more = rows.length === free
        }
      } catch (err) {
        this.logger.error({ err }, 'job poll failed')
      }
      if (this.state !== 'started') break
      if (!more) await this.idle(this.options.pollIntervalMs)
    }
  }
}
