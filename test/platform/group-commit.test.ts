import { describe, expect, it } from 'vitest'
import { GroupCommitter } from '../../src/platform/util/group-commit.js'

/** A flush that records its groups and how many run at once, finishing when released. */
function recorder() {
  const groups: number[][] = []
  let running = 0
  let peak = 0
  const gates: (() => void)[] = []
  const flush = async (units: number[]) => {
    groups.push(units)
    running++
    peak = Math.max(peak, running)
    await new Promise<void>((r) => gates.push(r))
    running--
    return units.map((u) => u * 10)
  }
  const releaseAll = async () => {
    while (gates.length > 0 || running > 0) {
      gates.splice(0).forEach((g) => g())
      await new Promise((r) => setImmediate(r))
    }
  }
  return { groups, flush, releaseAll, peak: () => peak, waiting: () => gates.length }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('GroupCommitter', () => {
  it('writes what arrives during a flush as one group, and answers each caller with its own result', async () => {
    const r = recorder()
    const c = new GroupCommitter<number, number>(r.flush)
    const first = c.submit(1)
    await tick()
    const rest = [c.submit(2), c.submit(3), c.submit(4)]
    await r.releaseAll()
    expect(await first).toBe(10)
    expect(await Promise.all(rest)).toEqual([20, 30, 40])
    expect(r.groups).toEqual([[1], [2, 3, 4]])
  })

  it('keeps light groups to one flush at a time and runs heavy ones side by side (parallelWeight)', async () => {
    const light = recorder()
    const c1 = new GroupCommitter<number, number>(light.flush, { concurrency: 4, parallelWeight: 100, weigh: (u) => u as number })
    const p1 = [c1.submit(1)]
    await tick()
    p1.push(c1.submit(2), c1.submit(3))
    await tick()
    expect(light.waiting()).toBe(1) // 2 and 3 weigh 5 < 100: they wait for the running flush
    await light.releaseAll()
    await Promise.all(p1)
    expect(light.groups).toEqual([[1], [2, 3]])
    expect(light.peak()).toBe(1)

    const heavy = recorder()
    const c2 = new GroupCommitter<number, number>(heavy.flush, { concurrency: 4, parallelWeight: 100, maxWeight: 150, weigh: (u) => u as number })
    const p2 = [c2.submit(120)]
    await tick()
    p2.push(c2.submit(130), c2.submit(140))
    await tick()
    expect(heavy.waiting()).toBe(3) // each weighs ≥ 100 and maxWeight keeps them apart: three flushes at once
    await heavy.releaseAll()
    expect(await Promise.all(p2)).toEqual([1200, 1300, 1400])
    expect(heavy.peak()).toBe(3)
  })

  it('never runs more than `concurrency` flushes', async () => {
    const r = recorder()
    const c = new GroupCommitter<number, number>(r.flush, { concurrency: 2, maxUnits: 1 })
    const all = [1, 2, 3, 4, 5].map((n) => c.submit(n))
    await tick()
    expect(r.waiting()).toBe(2)
    await r.releaseAll()
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50])
    expect(r.peak()).toBe(2)
  })

  it('retries a failed group unit by unit, so only the bad unit fails', async () => {
    const seen: number[][] = []
    const c = new GroupCommitter<number, number>(async (units) => {
      seen.push(units)
      if (units.includes(13)) throw new Error('bad unit')
      return units
    })
    const first = c.submit(1)
    await tick()
    const group = [c.submit(2), c.submit(13), c.submit(4)]
    const settled = await Promise.allSettled([first, ...group])
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
    expect(seen).toEqual([[1], [2, 13, 4], [2], [13], [4]])
  })

  it('drain resolves once nothing is queued or running', async () => {
    const r = recorder()
    const c = new GroupCommitter<number, number>(r.flush)
    await c.drain()
    const p = c.submit(1)
    let drained = false
    const d = c.drain().then(() => { drained = true })
    await tick()
    expect(drained).toBe(false)
    await r.releaseAll()
    await Promise.all([p, d])
    expect(drained).toBe(true)
  })
})
