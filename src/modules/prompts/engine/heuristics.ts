/**
 * Heuristics of the professional and enterprise tiers: signals that are not phrases — invisible or bidi characters,
 * mixed-script look-alikes, payloads hidden in encodings or Unicode tag characters, spaced-out or leetspeak words,
 * and optimisation-attack suffixes (GCG-style runs of punctuation-laced tokens). Each yields a strength in 0..1; the
 * calibration (model.ts) decides how much each is worth.
 */
import type { NormalizedPrompt, RuleHit } from './types.js'

export interface HeuristicSignal {
  /** Stable id, reported as the detection's rule_id (VV-H-…). */
  id: string
  description: string
  strength: number
}

/** Every heuristic id, in the order of the calibration features. */
export const HEURISTIC_IDS = ['VV-H-INVISIBLE', 'VV-H-BIDI', 'VV-H-HOMOGLYPH', 'VV-H-SMUGGLED', 'VV-H-ENCODED-ATTACK', 'VV-H-ENCODED', 'VV-H-SPACED', 'VV-H-ADVERSARIAL-SUFFIX'] as const

const WORDISH = /^[a-z]{2,}$/i

/**
 * A token that looks like part of an optimisation-attack suffix: letters glued to unusual punctuation
 * (`oppositeley.](`, `**ONE`, `\!--Two`, `({\similarly`), or a run of lone punctuation marks.
 */
function oddToken(tok: string): boolean {
  if (tok.length > 40) return false
  let letters = 0
  let punct = 0
  let upperAfterLower = false
  let prevLower = false
  for (let i = 0; i < tok.length; i++) {
    const c = tok.charCodeAt(i)
    const isLower = c >= 97 && c <= 122
    const isUpper = c >= 65 && c <= 90
    if (isLower || isUpper) {
      letters++
      if (isUpper && prevLower) upperAfterLower = true
      prevLower = isLower
    } else if (c < 128 && !(c >= 48 && c <= 57)) {
      punct++
      prevLower = false
    }
  }
  if (letters === 0) return punct >= 1 && tok.length <= 3
  return (punct >= 2 && letters >= 2) || (upperAfterLower && letters >= 6 && punct >= 1)
}

const SPECIAL = new Set(Array.from('()[]{}<>*\\/|^~=+_#@$%&";:`!', (c) => c.charCodeAt(0)))

const CODE_HINT = /(?:^|\n)\s*(?:def |class |import |from \S+ import|function |const |let |var |return\b|#include|public |private |if \(|for \()|[;{}]\s*\n|=>|\)\s*\{/

/** Strength of an adversarial suffix in the original text (0 when there is none). */
export function adversarialSuffix(original: string): number {
  const text = original.length > 4000 ? original.slice(-4000) : original
  // cheap pre-check: a suffix is laced with brackets, asterisks, slashes, quotes and the like
  let special = 0
  for (let i = 0; i < text.length && special < 8; i++) if (SPECIAL.has(text.charCodeAt(i))) special++
  if (special < 8) return 0
  if (CODE_HINT.test(text)) return 0
  const toks = text.split(/\s+/).filter(Boolean)
  if (toks.length < 12) return 0
  // the densest window of 20 tokens
  const W = Math.min(20, toks.length)
  const odd = toks.map((t) => (oddToken(t) ? 1 : 0))
  let cur = 0
  for (let i = 0; i < W; i++) cur += odd[i]!
  let best = cur
  for (let i = W; i < toks.length; i++) {
    cur += odd[i]! - odd[i - W]!
    if (cur > best) best = cur
  }
  const ratio = best / W
  if (best < 5 || ratio < 0.25) return 0
  // natural prose around it makes it more telling (an attack suffix is appended to a request)
  const words = toks.filter((t) => WORDISH.test(t)).length
  return Math.min(1, 0.4 + ratio) * (words >= 4 ? 1 : 0.7)
}

/** The heuristic signals of a normalised prompt, given the rule hits already found. */
export function heuristics(norm: NormalizedPrompt, hits: readonly RuleHit[]): HeuristicSignal[] {
  const s = norm.signals
  const out: HeuristicSignal[] = []
  const len = Math.max(1, norm.original.length)
  if (s.zeroWidth > 0) {
    out.push({ id: 'VV-H-INVISIBLE', description: `Invisible characters (${s.zeroWidth}) hidden inside the text`, strength: Math.min(1, 0.3 + (s.zeroWidth / len) * 20) })
  }
  if (s.bidiControls > 0) {
    out.push({ id: 'VV-H-BIDI', description: `Bidirectional-text control characters (${s.bidiControls}) that can reorder what a reader sees`, strength: Math.min(1, 0.5 + s.bidiControls * 0.1) })
  }
  if (s.homoglyphs >= 2) {
    out.push({ id: 'VV-H-HOMOGLYPH', description: `Look-alike characters from other scripts mixed into words (${s.homoglyphs})`, strength: Math.min(1, 0.3 + s.homoglyphs * 0.05) })
  }
  const smuggled = s.encodings.filter((e) => e === 'unicode_tags' || e === 'variation_selectors')
  if (smuggled.length > 0) {
    out.push({ id: 'VV-H-SMUGGLED', description: `Text smuggled in invisible Unicode (${smuggled.join(', ')})`, strength: 0.9 })
  }
  const encodedHits = hits.filter((h) => h.via.some((v) => v !== 'leet' && v !== 'spaced'))
  if (encodedHits.length > 0) {
    const via = [...new Set(encodedHits.flatMap((h) => h.via))].join(', ')
    out.push({ id: 'VV-H-ENCODED-ATTACK', description: `An attack pattern was found inside an encoded payload (${via})`, strength: 0.9 })
  } else if (s.encodings.length > 0) {
    out.push({ id: 'VV-H-ENCODED', description: `Contains an encoded payload (${s.encodings.join(', ')})`, strength: 0.3 })
  }
  if (s.spacedRuns >= 1 && hits.some((h) => h.via.includes('spaced'))) {
    out.push({ id: 'VV-H-SPACED', description: 'Words spelled out letter by letter to evade filters', strength: 0.7 })
  }
  const suffix = adversarialSuffix(norm.original)
  if (suffix > 0) {
    out.push({ id: 'VV-H-ADVERSARIAL-SUFFIX', description: 'A run of punctuation-laced tokens typical of optimisation (GCG) attack suffixes', strength: suffix })
  }
  return out
}
