import type { Database } from '../db/database.js'
import type { JobQueueOptions } from './base-queue.js'
import { BullMQJobQueue } from './bullmq-queue.js'
import { jobRepository } from './jobs.repository.js'
import { PostgresJobQueue } from './postgres-queue.js'
import type { JobQueue } from './types.js'

export * from './types.js'
export { canTransition, jobTransitions, CANCELLABLE_STATES, FINISHED_STATES } from './state.js'
export { backoffDelay } from './catalog.js'
export type { JobQueueOptions } from './base-queue.js'
export { PostgresJobQueue } from './postgres-queue.js'
export { BullMQJobQueue } from './bullmq-queue.js'

export interface CreateJobQueueOptions extends JobQueueOptions {
  /** VV_REDIS_URL: BullMQ dispatches the jobs; without it the Postgres rows are polled. */
  redisUrl?: string | undefined
  /** BullMQ key prefix. */
  prefix?: string
  reconcileIntervalMs?: number
}

export function createJobQueue(db: Database, opts: CreateJobQueueOptions): JobQueue {
  const { redisUrl, ...rest } = opts
  return redisUrl ? new BullMQJobQueue(db, { ...rest, redisUrl }) : new PostgresJobQueue(db, rest)
}

/** Deletes completed, failed and cancelled jobs that finished before `olderThan`; returns how many. */
export function purgeFinishedJobs(db: Database, olderThan: Date): Promise<number> {
  return jobRepository(db).purgeFinished(olderThan)
}
