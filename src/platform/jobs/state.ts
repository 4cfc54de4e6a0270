import type { JobState } from '../db/schema.js'

/**
 * Every move a job's state may make. Each SQL statement that changes `jobs.state` names its source state through
 * `fromState`, so a statement the table does not allow fails before it reaches the database.
 */
export const jobTransitions: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['running', 'cancelled'],
  running: ['completed', 'failed', 'queued', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
}

export const JOB_STATES = Object.keys(jobTransitions) as JobState[]

export function canTransition(from: JobState, to: JobState): boolean {
  return jobTransitions[from].includes(to)
}

export function isFinished(state: JobState): boolean {
  return jobTransitions[state].length === 0
}

/** States that may still become `cancelled`. */
export const CANCELLABLE_STATES: readonly JobState[] = JOB_STATES.filter((s) => canTransition(s, 'cancelled'))
export const FINISHED_STATES: readonly JobState[] = JOB_STATES.filter(isFinished)

/** The source state of a statement that moves rows to any of `to`; throws when the table forbids one of them. */
export function fromState(from: JobState, ...to: JobState[]): JobState {
  for (const target of to) {
    if (!canTransition(from, target)) throw new Error(`job state transition ${from} → ${target} is not allowed`)
  }
  return from
}
