/**
 * Group commit: callers submit units of work; whatever arrives while a flush is running is written together by
 * the next flush, so N concurrent requests share one INSERT and one COMMIT. An idle committer flushes on the
 * next turn of the event loop, so a lone request pays no added latency.
 *
 * When a group fails, each unit is retried alone, so one bad unit fails only its own caller.
 */
export interface GroupCommitOptions {
  /** Most units written by one flush. */
  maxUnits?: number
  /** Flushes that may run at once (more than one helps when the database is a network round trip away). */
  concurrency?: number
  /**
   * A flush beyond the first starts only when the waiting units weigh at least this much. Light groups are better
   * left to grow while one flush runs (fewer, fuller statements); heavy ones gain from running side by side.
   */
  parallelWeight?: number
  /** Weight of a unit (e.g. its row count) counted against maxWeight. */
  weigh?: (unit: unknown) => number
  maxWeight?: number
}

interface Pending<T, R> { unit: T; resolve: (r: R) => void; reject: (e: unknown) => void }

export class GroupCommitter<T, R> {
  private queue: Pending<T, R>[] = []
  private running = 0
  private scheduled = false
  private readonly maxUnits: number
  private readonly concurrency: number
  private readonly maxWeight: number
  private readonly parallelWeight: number
  private readonly weigh: (unit: T) => number
  private idleWaiters: (() => void)[] = []

  constructor(private readonly flush: (units: T[]) => Promise<R[]>, opts: GroupCommitOptions = {}) {
    this.maxUnits = opts.maxUnits ?? 500
    this.concurrency = opts.concurrency ?? 1
    this.maxWeight = opts.maxWeight ?? Number.POSITIVE_INFINITY
    this.parallelWeight = opts.parallelWeight ?? 0
    this.weigh = (opts.weigh as ((u: T) => number) | undefined) ?? (() => 1)
  }

  submit(unit: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ unit, resolve, reject })
      this.schedule()
    })
  }

  /** Resolves when nothing is queued or being written. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  private schedule() {
    if (this.scheduled || this.running >= this.concurrency || (this.running > 0 && !this.heavyQueue())) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.startFlush()
    })
  }

  private takeGroup(): Pending<T, R>[] {
    let weight = 0
    let n = 0
    while (n < this.queue.length && n < this.maxUnits) {
      const w = this.weigh(this.queue[n]!.unit)
      if (n > 0 && weight + w > this.maxWeight) break
      weight += w
      n++
    }
    return this.queue.splice(0, n)
  }

  /** Whether the waiting units weigh at least parallelWeight (counting no further than needed). */
  private heavyQueue(): boolean {
    let weight = 0
    for (let i = 0; i < this.queue.length && weight < this.parallelWeight; i++) weight += this.weigh(this.queue[i]!.unit)
    return weight >= this.parallelWeight
  }

  private startFlush() {
    while (this.running < this.concurrency && this.queue.length > 0 && (this.running === 0 || this.heavyQueue())) {
      const group = this.takeGroup()
      this.running++
      void this.run(group).finally(() => {
        this.running--
        if (this.queue.length > 0) this.startFlush()
        else if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w()
      })
    }
  }

  private async run(group: Pending<T, R>[]) {
    try {
      const results = await this.flush(group.map((p) => p.unit))
      group.forEach((p, i) => p.resolve(results[i]!))
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err)
        return
      }
      for (const p of group) {
        try {
          const [r] = await this.flush([p.unit])
          p.resolve(r!)
        } catch (e) {
          p.reject(e)
        }
      }
    }
  }
}
