/**
 * Every pattern of the shipped rule packs is proven free of catastrophic backtracking (recheck), so that no prompt
 * can make a rule take super-linear time. Slow (seconds per complex pattern) and independent of the database, so CI
 * runs it once, on the embedded-database run.
 */
import { describe, expect, it } from 'vitest'
import { loadRulePacks } from '../../src/modules/prompts/engine/matcher.js'
import { checkRuleSafety } from '../../src/modules/prompts/engine/rules.js'

describe('builtin rule packs', () => {
  it('every pattern is proven free of catastrophic backtracking', { timeout: 900_000 }, () => {
    const unsafe = loadRulePacks().rules.flatMap((r) => checkRuleSafety(r, r.id, 10_000))
    expect(unsafe).toEqual([])
  })
})
