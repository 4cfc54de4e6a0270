import { pino } from 'pino'
import { Type } from 'typebox'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/platform/db/database.js'
import {
  backoffDelay, canTransition, createJobQueue, defineJob, jobTransitions, purgeFinishedJobs, CANCELLABLE_STATES, FINISHED_STATES,
} from '../../src/platform/jobs/index.js'
import { fromState } from '../../src/platform/jobs/state.js'
import { testDatabase } from '../helpers/db.js'
import { insertJobRow, uniqueName } from './helpers.js'

describe('job state machine', () => {
  it('allows exactly the transitions in the table', () => {
    expect(jobTransitions).toEqual({
      queued: ['running', 'cancelled'],
      running: ['completed', 'failed', 'queued', 'cancelled'],
      completed: [], failed: [], cancelled: [],
    })
    expect(canTransition('queued', 'running')).toBe(true)
    expect(canTransition('queued', 'completed')).toBe(false)
    expect(canTransition('completed', 'queued')).toBe(false)
    expect(canTransition('cancelled', 'running')).toBe(false)
    expect([...CANCELLABLE_STATES].sort()).toEqual(['queued', 'running'])
    expect([...FINISHED_STATES].sort()).toEqual(['cancelled', 'completed', 'failed'])
  })

  it('refuses to build a statement for a forbidden move', () => {
    expect(fromState('running', 'completed', 'queued')).toBe('running')
    expect(() => fromState('failed', 'queued')).toThrow(/failed → queued is not allowed/)
  })
})

describe('backoffDelay', () => {
  it('grows exponentially with equal jitter and is capped', () => {
    expect(backoffDelay(1000, 1, () => 0)).toBe(500)
    expect(backoffDelay(1000, 1, () => 1)).toBe(1000)
    expect(backoffDelay(1000, 3, () => 0)).toBe(2000)
    expect(backoffDelay(1000, 3, () => 1)).toBe(4000)
    expect(backoffDelay(1000, 40, () => 1)).toBe(3_600_000)
    expect(backoffDelay(0, 5)).toBe(0)
  })
})

describe('job catalog', () => {
  it('accepts a definition twice but rejects another with the same name, bad queue names and bad limits', () => {
    const q = createJobQueue({} as never, { logger: pino({ level: 'silent' }) })
    const def = defineJob({ name: 'dup', payload: Type.Object({}), async handler() { return null } })
    q.register(def)
    q.register(def)
    expect(() => q.register({ ...def })).toThrow(/registered twice/)
    expect(() => q.register({ ...def, name: 'colon', queue: 'a:b' })).toThrow(/queue must match/)
    expect(() => q.register({ ...def, name: 'zero', maxAttempts: 0 })).toThrow(/maxAttempts/)
  })
})

describe('purgeFinishedJobs', () => {
  let db: Database
  beforeAll(async () => { db = (await testDatabase()).db })

  it('deletes only finished jobs that finished before the cutoff', async () => {
    const queue = uniqueName('q')
    const queued = await insertJobRow(db, { queue, name: 'p', payload: {}, state: 'queued' })
    const rows = await db.insertInto('jobs').values([
      { queue, name: 'p', payload: '{}', state: 'completed', max_attempts: 1, backoff_ms: 0, timeout_ms: 1, finished_at: new Date(Date.now() - 86_400_000) },
      { queue, name: 'p', payload: '{}', state: 'failed', max_attempts: 1, backoff_ms: 0, timeout_ms: 1, finished_at: new Date() },
    ]).returning('id').execute()
    const removed = await purgeFinishedJobs(db, new Date(Date.now() - 3_600_000))
    expect(removed).toBeGreaterThanOrEqual(1)
    const left = await db.selectFrom('jobs').select('id').where('queue', '=', queue).execute()
    expect(left.map((r) => r.id).sort()).toEqual([queued, rows[1]!.id].sort())
  })
})
