/**
 * The rule packs we ship (assets/prompts/rules/*.yaml): they load without issues, ids are unique, every core
 * category and every core language is covered, and every rule's test cases pass through the real matcher
 * (normalisation included). rules-safety.test.ts proves the patterns free of catastrophic backtracking.
 */
import { describe, expect, it } from 'vitest'
import { loadRulePacks, runRuleTestCases } from '../../src/modules/prompts/engine/matcher.js'
import { CORE_CATEGORIES } from '../../src/modules/prompts/engine/types.js'

const packs = loadRulePacks()
const CORE_LANGUAGES = ['en', 'es', 'fr', 'de', 'pt', 'it', 'ru', 'zh', 'ja', 'hi']
/** Categories whose attack phrasing must be covered in every core language. */
const MULTILINGUAL = ['prompt_injection', 'jailbreak', 'system_prompt_extraction']

describe('builtin rule packs', () => {
  it('load without issues', () => {
    expect(packs.issues).toEqual([])
    expect(packs.rules.length).toBeGreaterThan(0)
  })

  it('cover every core category', () => {
    const cats = new Set(packs.rules.map((r) => r.category))
    for (const c of CORE_CATEGORIES) expect(cats.has(c), c).toBe(true)
  })

  it.each(MULTILINGUAL)('%s covers the core languages', (category) => {
    const langs = new Set(packs.rules.filter((r) => r.category === category).flatMap((r) => r.languages))
    expect(CORE_LANGUAGES.filter((l) => !langs.has(l))).toEqual([])
  })

  it('every rule has test cases of both kinds', () => {
    const missing = packs.rules.filter((r) => !r.testCases.some((t) => t.expected === 'match') || !r.testCases.some((t) => t.expected === 'no_match'))
    expect(missing.map((r) => r.id)).toEqual([])
  })

  it('every test case passes', () => {
    const failures = packs.rules.flatMap((r) => runRuleTestCases(r))
    expect(failures).toEqual([])
  })
})
