/**
 * Prompt normalisation — the first stage of the prompt-analysis engine (issue 4, "Engine").
 *
 * normalizePrompt() turns a raw prompt into the texts the detectors match against:
 *  1. length cap (maxLength, never splitting a surrogate pair);
 *  2. invisible characters removed and counted: zero-width characters (U+200B–200F, U+2060–2064, U+FEFF, soft
 *     hyphen, Mongolian vowel separator, Hangul fillers, C0/C1 controls), tag characters (U+E0000–E007F) and variation
 *     selectors used as a byte code; bidi controls (U+202A–202E, U+2066–2069, U+061C). The payloads hidden in tag
 *     characters ("ASCII smuggling") and in runs of variation selectors ("emoji smuggling") are decoded as variants;
 *  3. letter-shaped symbols folded and counted (fullwidth, mathematical alphanumerics, circled / parenthesised /
 *     squared letters, regional indicators, small capitals, IPA look-alikes), then Unicode NFKC;
 *  4. Cyrillic / Greek / Armenian / Cherokee / Lisu look-alikes folded to Latin — only inside words that mix them with
 *     Latin letters, or in words made only of look-alikes standing next to Latin text, so that Russian or Greek text
 *     is left intact;
 *  5. lower-case; combining marks stacked on ASCII letters ("zalgo" text) removed;
 *  6. whitespace collapsed (a run containing a line break becomes "\n", any other run one space; trimmed).
 *
 * Variants (each only when it differs from the normalised text): leetspeak folded inside words that contain letters
 * (['leet']), spaced-out letter runs collapsed (['spaced'], and ['spaced', 'leet']), and payloads decoded from inside
 * the text — base64 (standard and url-safe), hex, URL-encoding, \u / \x escapes, HTML numeric entities, rot13 and
 * reversed text (recognised by a small English word list), tag characters and variation selectors — followed
 * breadth-first through nested encodings up to maxDecodeDepth. Every decoded payload is normalised the same way.
 *
 * Pure and synchronous; every loop is linear in its (capped) input and every regular expression is free of nested
 * quantifiers and ambiguous alternations, with bounded repetitions.
 */
import {
  COMMON_WORDS,
  COMPAT_RANGES,
  LATIN_LOOKALIKES,
  LETTER_RANGES,
  SCRIPT_LOOKALIKES,
  lookalikeScriptOf,
  type LookalikeScript,
} from './confusables.js'
import type { NormalizationSignals, NormalizedPrompt, NormalizeOptions, TextVariant } from './types.js'

const DEFAULT_MAX_LENGTH = 100_000
const DEFAULT_MAX_DECODE_DEPTH = 2
const DEFAULT_MAX_VARIANTS = 8
/** Candidates (base64/hex runs) a single text may cost a decode attempt. */
const MAX_DECODE_ATTEMPTS = 48
/** Minimum length of a base64 run or of a hex run worth decoding. */
const MIN_BASE64 = 16
const MIN_HEX = 16

// ---------------------------------------------------------------------------------------------------------------
// Character classes

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

function isAsciiLetter(c: number): boolean {
  const l = c | 0x20
  return l >= 97 && l <= 122
}

/** Whitespace as the collapse step sees it (after NFKC most Unicode spaces are already U+0020). */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 9 && c <= 13)
  if (c < 0x85) return false
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0x2800
  )
}

function isLineBreak(c: number): boolean {
  return (c >= 10 && c <= 13) || c === 0x85 || c === 0x2028 || c === 0x2029
}

/** Zero-width and invisible formatting characters, always removed and counted. */
function isZeroWidth(cp: number): boolean {
  return (
    cp === 0x200b || (cp >= 0x2060 && cp <= 0x2064) || cp === 0xfeff || cp === 0x00ad || cp === 0x180e ||
    cp === 0x034f || cp === 0x115f || cp === 0x1160 || cp === 0x3164 || cp === 0xffa0 || cp === 0x17b4 ||
    cp === 0x17b5 || cp === 0x2065
  )
}

/** ZWNJ, ZWJ, LRM, RLM: removed; counted only next to an ASCII letter or digit (emoji ZWJ sequences and Indic or
 * Persian joiners are legitimate). */
function isAmbiguousInvisible(cp: number): boolean {
  return cp >= 0x200c && cp <= 0x200f
}

function isBidiControl(cp: number): boolean {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x061c
}

function isVariationSelector(cp: number): boolean {
  return (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)
}

/** Byte value carried by a variation selector in "emoji smuggling" (VS1–16 → 0–15, VS17–256 → 16–255). */
function variationSelectorByte(cp: number): number {
  return cp <= 0xfe0f ? cp - 0xfe00 : cp - 0xe0100 + 16
}

function letterRange(cp: number): string | undefined {
  for (const [lo, hi] of LETTER_RANGES) {
    if (cp >= lo && cp <= hi) return String.fromCharCode(97 + cp - lo)
  }
  return undefined
}

const compatCache = new Map<number, string | null>()
const ASCII_ALNUM_SHORT = /^[A-Za-z0-9]{1,4}$/

/** The ASCII letters/digits NFKC folds a letter-shaped compatibility character to, or undefined. */
function compatAscii(cp: number): string | undefined {
  if (cp < 0x1d2c) return undefined
  let inRange = false
  for (const [lo, hi] of COMPAT_RANGES) {
    if (cp >= lo && cp <= hi) {
      inRange = true
      break
    }
  }
  if (!inRange) return undefined
  let cached = compatCache.get(cp)
  if (cached === undefined) {
    const folded = String.fromCodePoint(cp).normalize('NFKC')
    cached = ASCII_ALNUM_SHORT.test(folded) ? folded.toLowerCase() : null
    compatCache.set(cp, cached) // bounded: the ranges hold ~1,900 code points
  }
  return cached ?? undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Core normalisation (shared by the prompt and by every decoded payload)

/** BMP blocks of 32 code points holding a character prePass acts on (1) or not (0). */
const PLAIN_BMP = new Uint8Array(0x10000 >> 5)

interface Hidden {
  via: string
  text: string
}

interface Core {
  /** Invisibles removed, letter-shaped symbols folded, NFKC — case and whitespace kept: what decoders scan. */
  clean: string
  /** + look-alikes folded, lower-cased, zalgo marks removed — whitespace kept: what the spaced-run collapse scans. */
  lowered: string
  /** + whitespace collapsed. */
  normalized: string
  /** Payloads hidden in tag characters / variation selectors. */
  hidden: Hidden[]
}

const NEEDS_PREPASS = /[^\t\n\r\x20-\x7e]/
const NON_ASCII = /[^\x00-\x7f]/
const LOOKALIKE_SCRIPT_CHAR = /[\u0370-\u058f\u13a0-\u13ff\ua4d0-\ua4ff\uab70-\uabbf]/
const STACKED_MARK = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true })
const UTF8_LENIENT = new TextDecoder('utf-8')

/**
 * Removes invisible characters (counting them), folds letter-shaped symbols (counting them) and collects the payloads
 * hidden in tag characters and variation-selector runs. One linear pass over code points.
 */
function prePass(s: string, sig: NormalizationSignals, hidden: Hidden[]): string {
  const parts: string[] = []
  let start = 0
  let prevAlnum = false
  let pendingAmbiguous = 0
  // tag characters
  let tagRun = ''
  let tagRunLength = 0
  let tagRunAfterFlag = false
  let tagText = ''
  // variation selectors
  const vsBytes: number[] = []
  let vsText = ''
  let lastKept = -1

  const flushTags = (): void => {
    if (tagRunLength === 0) return
    // 🏴 + a short tag sequence is a subdivision flag (England, Scotland, Wales), not a hidden message.
    if (!(tagRunAfterFlag && tagRunLength <= 8)) {
      sig.zeroWidth += tagRunLength
      if (tagRun.length > 0) tagText += (tagText.length > 0 ? ' ' : '') + tagRun
    }
    tagRun = ''
    tagRunLength = 0
  }
  const flushVs = (): void => {
    if (vsBytes.length === 0) return
    // A single selector is ordinary emoji / ideograph presentation; a run of them carries bytes.
    if (vsBytes.length >= 2) {
      sig.zeroWidth += vsBytes.length
      if (vsBytes.length >= 4) {
        const decoded = decodeUtf8Strict(Uint8Array.from(vsBytes))
        if (decoded !== undefined && isReadable(decoded)) vsText += (vsText.length > 0 ? '\n' : '') + decoded
      }
    }
    vsBytes.length = 0
  }

  const n = s.length
  let i = 0
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c < 0x7f && tagRunLength === 0 && vsBytes.length === 0) {
      // printable ASCII: kept as it is
      const alnum = isAsciiAlnum(c)
      if (pendingAmbiguous > 0) {
        if (prevAlnum || alnum) sig.zeroWidth += pendingAmbiguous
        pendingAmbiguous = 0
      }
      prevAlnum = alnum
      lastKept = c
      i++
      continue
    }
    let cp = c
    let size = 1
    if (isHighSurrogate(c) && i + 1 < n) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000
        size = 2
      }
    }

    if (cp >= 0xe0000 && cp <= 0xe007f) {
      flushVs()
      if (tagRunLength === 0) tagRunAfterFlag = lastKept === 0x1f3f4
      tagRunLength++
      if (cp >= 0xe0020 && cp <= 0xe007e) tagRun += String.fromCharCode(cp - 0xe0000)
      if (i > start) parts.push(s.slice(start, i))
      start = i + size
      i += size
      continue
    }
    flushTags()
    if (isVariationSelector(cp)) {
      vsBytes.push(variationSelectorByte(cp))
      if (i > start) parts.push(s.slice(start, i))
      start = i + size
      i += size
      continue
    }
    flushVs()

    if (cp >= 0xa0 && cp < 0x10000 && (PLAIN_BMP[cp >> 5] ?? 0) === 0) {
      // an ordinary character (its 32-code-point block holds nothing to remove or fold)
      if (pendingAmbiguous > 0) {
        if (prevAlnum) sig.zeroWidth += pendingAmbiguous
        pendingAmbiguous = 0
      }
      prevAlnum = false
      lastKept = cp
      i += size
      continue
    }
    let replacement: string | undefined
    let drop = false
    if (cp < 0x80) {
      if ((cp < 0x20 && cp !== 9 && cp !== 10 && cp !== 11 && cp !== 12 && cp !== 13) || cp === 0x7f) {
        drop = true
        sig.zeroWidth++
      }
    } else if (cp <= 0x9f) {
      if (cp === 0x85) replacement = '\n'
      else {
        drop = true
        sig.zeroWidth++
      }
    } else if (isZeroWidth(cp)) {
      drop = true
      if (!(cp === 0xfeff && i === 0)) sig.zeroWidth++
    } else if (isAmbiguousInvisible(cp)) {
      drop = true
      pendingAmbiguous++
    } else if (isBidiControl(cp)) {
      drop = true
      sig.bidiControls++
    } else {
      const latin = cp < 0x10000 ? (LATIN_FAST[cp] ?? 0) : 0
      if (latin !== 0) replacement = String.fromCharCode(latin)
      else if ((cp >= 0x1d2c && cp <= 0x24ff) || (cp >= 0xff10 && cp <= 0xff5a) || cp >= 0x1d400) {
        replacement = letterRange(cp) ?? compatAscii(cp)
      }
      if (replacement !== undefined) sig.homoglyphs++
    }

    if (drop) {
      if (i > start) parts.push(s.slice(start, i))
      start = i + size
      i += size
      continue
    }
    const alnum = replacement !== undefined ? replacement !== '\n' : isAsciiAlnum(cp)
    if (pendingAmbiguous > 0) {
      if (prevAlnum || alnum) sig.zeroWidth += pendingAmbiguous
      pendingAmbiguous = 0
    }
    if (replacement !== undefined) {
      if (i > start) parts.push(s.slice(start, i))
      parts.push(replacement)
      start = i + size
    }
    prevAlnum = alnum
    lastKept = cp
    i += size
  }
  flushTags()
  flushVs()
  if (pendingAmbiguous > 0 && prevAlnum) sig.zeroWidth += pendingAmbiguous

  if (tagText.length >= 6 && /[A-Za-z]{2}/.test(tagText)) hidden.push({ via: 'unicode_tags', text: tagText })
  if (vsText.length > 0) hidden.push({ via: 'variation_selectors', text: vsText })
  if (start === 0) return s
  parts.push(s.slice(start))
  return parts.join('')
}

/** LATIN_LOOKALIKES as a flat table: BMP code point → ASCII letter code (0 = none). */
const LATIN_FAST = new Uint8Array(0x10000)
for (const [cp, to] of LATIN_LOOKALIKES) if (cp < 0x10000) LATIN_FAST[cp] = to.charCodeAt(0)

// Blocks holding anything prePass removes, counts or folds (the rest of the BMP passes through untouched).
for (let cp = 0xa0; cp < 0x10000; cp++) {
  const special =
    (LATIN_FAST[cp] ?? 0) !== 0 || isZeroWidth(cp) || isAmbiguousInvisible(cp) || isBidiControl(cp) ||
    isVariationSelector(cp) || (cp >= 0x1d2c && cp <= 0x24ff) || (cp >= 0xff10 && cp <= 0xff5a) || (cp >= 0xd800 && cp <= 0xdfff)
  if (special) PLAIN_BMP[cp >> 5] = 1
}

const SCRIPTS: readonly LookalikeScript[] = ['cyrillic', 'greek', 'armenian', 'cherokee', 'lisu']
/** SCRIPT_LOOKALIKES as a flat table: bits 0–4 letter (1 = a), bit 5 strong, bits 6–8 script index + 1. */
const SCRIPT_FAST = new Uint16Array(0x10000)
for (const [cp, e] of SCRIPT_LOOKALIKES) {
  if (cp < 0x10000) SCRIPT_FAST[cp] = (e.to.charCodeAt(0) - 96) | (e.strong ? 32 : 0) | ((SCRIPTS.indexOf(e.script) + 1) << 6)
}

const enum WordKind {
  Other = 0,
  Latin = 1,
  Mixed = 2,
  Lookalike = 3,
}

function isLatinLetter(c: number): boolean {
  return isAsciiAlnum(c) || (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) || (c >= 0x1e00 && c <= 0x1eff)
}

/** Part of a word: letters, digits and marks of any script (punctuation, symbols, spaces and emoji end a word). */
function isWordUnit(c: number): boolean {
  if (c < 0xc0) return isAsciiAlnum(c)
  return !(
    c === 0xd7 || c === 0xf7 || (c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
    (c >= 0xd800 && c <= 0xdfff) || (c >= 0xfe10 && c <= 0xfe6f) || (c >= 0xff00 && c <= 0xff0f) || isSpace(c)
  )
}

// Character classes for the look-alike fold, one byte per BMP code unit.
const C_NONWORD = 0
const C_LATIN = 1
const C_OTHER = 2
const C_MARK = 3
const C_LOOK = 4
/** values ≥ C_NATIVE: a letter of script (value − C_NATIVE) that is not a look-alike */
const C_NATIVE = 8
const CHAR_CLASS = new Uint8Array(0x10000)
for (let c = 0; c < 0x10000; c++) {
  let cls = C_NONWORD
  if (isWordUnit(c)) {
    const script = lookalikeScriptOf(c)
    if (isLatinLetter(c)) cls = C_LATIN
    else if ((SCRIPT_FAST[c] ?? 0) !== 0) cls = C_LOOK
    else if (c >= 0x300 && c <= 0x36f) cls = C_MARK
    else if (script !== undefined) cls = C_NATIVE + SCRIPTS.indexOf(script) + 1
    else cls = C_OTHER
  }
  CHAR_CLASS[c] = cls
}

/**
 * Folds Cyrillic/Greek/Armenian/Cherokee/Lisu look-alikes to Latin in context: inside words mixing them with Latin
 * letters (when the Latin letters are not outnumbered by native ones — a Russian word with one stray Latin letter is
 * left alone), and in words made only of strong look-alikes next to a Latin word or in a text without any other
 * letter of that script.
 */
function foldScriptLookalikes(s: string, sig: NormalizationSignals): string {
  const starts: number[] = []
  const ends: number[] = []
  const kinds: WordKind[] = []
  /** per word: bitmask of the scripts of its look-alikes; -1 for a mixed word that must not be folded */
  const lookScripts: number[] = []
  let nativeScripts = 0
  const n = s.length
  let i = 0
  while (i < n) {
    if (CHAR_CLASS[s.charCodeAt(i)] === C_NONWORD) {
      i++
      continue
    }
    const start = i
    let latin = 0
    let look = 0
    let strong = 0
    let native = 0
    let other = 0
    let scripts = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      const cls = CHAR_CLASS[c] ?? C_NONWORD
      if (cls === C_NONWORD) break
      if (cls === C_LATIN) latin++
      else if (cls === C_LOOK) {
        const fast = SCRIPT_FAST[c] ?? 0
        look++
        if ((fast & 32) !== 0) strong++
        scripts |= 1 << (fast >> 6)
      } else if (cls >= C_NATIVE) {
        native++
        nativeScripts |= 1 << (cls - C_NATIVE)
      } else if (cls === C_OTHER) other++
    }
    let kind = WordKind.Other
    if (latin > 0 && look > 0) kind = WordKind.Mixed
    else if (latin > 0) kind = WordKind.Latin
    else if (look > 0 && strong === look && native === 0 && other === 0) kind = WordKind.Lookalike
    starts.push(start)
    ends.push(i)
    kinds.push(kind)
    lookScripts.push(kind === WordKind.Mixed && !(native === 0 || latin > native) ? -1 : scripts)
  }

  const parts: string[] = []
  let last = 0
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[k]
    const scripts = lookScripts[k] ?? 0
    let fold = false
    if (kind === WordKind.Mixed) fold = scripts !== -1
    else if (kind === WordKind.Lookalike) {
      const prev = kinds[k - 1]
      const next = kinds[k + 1]
      fold =
        prev === WordKind.Latin || prev === WordKind.Mixed || next === WordKind.Latin || next === WordKind.Mixed ||
        (scripts & nativeScripts) === 0
    }
    if (!fold) continue
    const start = starts[k] ?? 0
    const end = ends[k] ?? 0
    let out = ''
    for (let j = start; j < end; j++) {
      const fast = SCRIPT_FAST[s.charCodeAt(j)] ?? 0
      if (fast !== 0) {
        out += String.fromCharCode(96 + (fast & 31))
        sig.homoglyphs++
      } else out += s[j] ?? ''
    }
    parts.push(s.slice(last, start), out)
    last = end
  }
  if (parts.length === 0) return s
  parts.push(s.slice(last))
  return parts.join('')
}

function isStackedMark(c: number): boolean {
  return (
    (c >= 0x300 && c <= 0x36f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) ||
    (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe20 && c <= 0xfe2f)
  )
}

/** Removes combining marks that remain on ASCII letters/digits after NFKC (zalgo text); counts the letters cleaned. */
function stripStackedMarks(s: string, sig: NormalizationSignals): string {
  const parts: string[] = []
  let start = 0
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s.charCodeAt(i)
    if (isStackedMark(c) && i > 0 && isAsciiAlnum(s.charCodeAt(i - 1))) {
      let j = i
      while (j < n && isStackedMark(s.charCodeAt(j))) j++
      parts.push(s.slice(start, i))
      start = j
      sig.homoglyphs++
      i = j
      continue
    }
    i++
  }
  if (parts.length === 0) return s
  parts.push(s.slice(start))
  return parts.join('')
}

/** Collapses whitespace: a run with a line break → "\n", any other run → " "; leading/trailing runs dropped. */
const NEEDS_COLLAPSE = /[^\S ]| {2}|^ | $|\u2800/

function collapseWhitespace(s: string): string {
  if (!NEEDS_COLLAPSE.test(s)) return s
  const parts: string[] = []
  let start = 0
  const n = s.length
  let i = 0
  let changed = false
  while (i < n) {
    const c = s.charCodeAt(i)
    if (!isSpace(c)) {
      i++
      continue
    }
    let j = i
    let lineBreak = false
    while (j < n) {
      const d = s.charCodeAt(j)
      if (!isSpace(d)) break
      if (isLineBreak(d)) lineBreak = true
      j++
    }
    const edge = i === 0 || j === n
    if (edge || j - i > 1 || c !== 0x20 || lineBreak) {
      parts.push(s.slice(start, i))
      if (!edge) parts.push(lineBreak ? '\n' : ' ')
      start = j
      changed = true
    }
    i = j
  }
  if (!changed) return s
  parts.push(s.slice(start))
  return parts.join('')
}

function capStage(s: string, cap: number): string {
  if (s.length <= cap) return s
  let end = cap
  if (end > 0 && isHighSurrogate(s.charCodeAt(end - 1))) end--
  return s.slice(0, end)
}

function coreNormalize(input: string, sig: NormalizationSignals, cap: number): Core {
  const hidden: Hidden[] = []
  let clean = NEEDS_PREPASS.test(input) ? prePass(input, sig, hidden) : input
  const nonAscii = NON_ASCII.test(clean)
  if (nonAscii) clean = capStage(clean.normalize('NFKC'), cap * 2)
  let folded = clean
  if (nonAscii && LOOKALIKE_SCRIPT_CHAR.test(folded)) folded = foldScriptLookalikes(folded, sig)
  let lowered = folded.toLowerCase()
  if (nonAscii && STACKED_MARK.test(lowered)) lowered = stripStackedMarks(lowered, sig)
  return { clean, lowered, normalized: collapseWhitespace(lowered), hidden }
}

// ---------------------------------------------------------------------------------------------------------------
// Spaced-out letters: "i g n o r e   a l l", "i.g.n.o.r.e", "b_y_p_a_s_s"

function isSpacedSeparator(c: number): boolean {
  if (c >= 0x30 && c < 0xb7) return c === 0x5f || c === 0x7e
  return (
    c === 0x20 || c === 9 || c === 10 || c === 13 || c === 0x2e || c === 0x2d || c === 0x5f || c === 0x2a ||
    c === 0x7e || c === 0x2f || c === 0xb7 || c === 0x2022 || c === 0x2027
  )
}

const SINGLE_LETTER = /^\p{L}$/u
const MAX_GAP = 4

/**
 * Collapses runs of ≥ 3 single-character tokens (at least three of them letters) separated by short gaps of spaces,
 * dots, dashes, underscores…; the most frequent gap of a run joins letters, any other gap separates words.
 */
/** Three single letters/digits in a row separated by short gaps: the cheap test before the scan. */
const SPACED_HINT = /(?<![a-z0-9])[a-z0-9][ \t\n\r.\-_*~/]{1,4}[a-z0-9][ \t\n\r.\-_*~/]{1,4}[a-z0-9](?![a-z0-9])/

function collapseSpaced(s: string): { text: string; runs: number } {
  // the hint is a quick test for ASCII text; for other text the scan below is cheaper than a \p{L} regex
  if (!NON_ASCII.test(s) && !SPACED_HINT.test(s)) return { text: s, runs: 0 }
  const parts: string[] = []
  let emittedTo = 0
  let runs = 0
  const items: string[] = []
  const gaps: string[] = []
  let letters = 0
  let runStart = -1
  let lastEnd = -1

  const finish = (): void => {
    if (items.length >= 3 && letters >= 3) {
      const counts = new Map<string, number>()
      for (const g of gaps) counts.set(g, (counts.get(g) ?? 0) + 1)
      let joiner = ''
      let best = -1
      for (const [g, count] of counts) {
        if (count > best || (count === best && g.length < joiner.length)) {
          joiner = g
          best = count
        }
      }
      let out = items[0] ?? ''
      let segment = 1
      for (let k = 1; k < items.length; k++) {
        if (gaps[k - 1] === joiner) {
          segment++
        } else {
          if (segment >= 2) runs++
          segment = 1
          out += ' '
        }
        out += items[k] ?? ''
      }
      if (segment >= 2) runs++
      parts.push(s.slice(emittedTo, runStart), out)
      emittedTo = lastEnd
    }
    items.length = 0
    gaps.length = 0
    letters = 0
    runStart = -1
  }

  const n = s.length
  let i = 0
  while (i < n) {
    if (isSpacedSeparator(s.charCodeAt(i))) {
      i++
      continue
    }
    let j = i + 1
    while (j < n && !isSpacedSeparator(s.charCodeAt(j))) j++
    let item = false
    let letter = false
    if (j - i === 1) {
      const c = s.charCodeAt(i)
      if (isAsciiAlnum(c)) {
        item = true
        letter = isAsciiLetter(c)
      } else if (c >= 0xc0 && SINGLE_LETTER.test(s[i] ?? '')) {
        item = true
        letter = true
      }
    }
    if (item) {
      if (runStart >= 0 && i - lastEnd > MAX_GAP) finish()
      if (runStart < 0) runStart = i
      else gaps.push(s.slice(lastEnd, i))
      items.push(s[i] ?? '')
      if (letter) letters++
      lastEnd = j
    } else if (runStart >= 0) {
      finish()
    }
    i = j
  }
  if (runStart >= 0) finish()
  if (parts.length === 0) return { text: s, runs: 0 }
  parts.push(s.slice(emittedTo))
  return { text: parts.join(''), runs }
}

// ---------------------------------------------------------------------------------------------------------------
// Leetspeak

const VOCABULARY: ReadonlySet<string> = new Set(COMMON_WORDS)
const LEET_DEFAULT: Readonly<Record<string, string>> = {
  '0': 'o', '1': 'i', '2': 'z', '3': 'e', '4': 'a', '5': 's', '6': 'g', '7': 't', '8': 'b', '9': 'g',
  '@': 'a', $: 's', '|': 'l', '!': 'i',
}
const LEET_ALTERNATIVE: Readonly<Record<string, string>> = { '1': 'l', '2': 'r', '6': 'b', '|': 'i' }
const HEX_TOKEN = /^[0-9a-f]{1,64}$/
const MAX_LEET_TOKEN = 24

function isLeetTokenChar(c: number): boolean {
  if (c >= 97) return c <= 122 || c === 0x7c
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 0x40 || c === 0x24 || c === 0x7c || c === 0x21
}

/** An address-like continuation after '@': "name@host.tld" keeps its '@'. */
function looksLikeEmailDomain(s: string, at: number): boolean {
  let j = at + 1
  const limit = Math.min(s.length, at + 256)
  while (j < limit && /[a-z0-9-]/.test(s[j] ?? '')) j++
  return j > at + 1 && s[j] === '.' && /[a-z]/.test(s[j + 1] ?? '')
}

/** Folds one token; returns undefined when it is left as it is. */
function foldLeetToken(token: string, emailAt: number): { text: string; count: number } | undefined {
  let firstLetter = -1
  let lastLetter = -1
  const leetAt: number[] = []
  for (let k = 0; k < token.length; k++) {
    const c = token.charCodeAt(k)
    if (c >= 97 && c <= 122) {
      if (firstLetter < 0) firstLetter = k
      lastLetter = k
    } else if (k !== emailAt) leetAt.push(k)
  }
  if (firstLetter < 0 || leetAt.length === 0) return undefined

  const chars = token.split('')
  const ambiguous: number[] = []
  for (const k of leetAt) {
    const ch = token[k] ?? ''
    let to = LEET_DEFAULT[ch] ?? ch
    // "11" inside a word is "ll" (he11o, a11, ki11); a lone 1 is an i (1gnore, k1ll).
    if (ch === '1' && (token[k - 1] === '1' || token[k + 1] === '1')) to = 'l'
    chars[k] = to
    if (LEET_ALTERNATIVE[ch] !== undefined) ambiguous.push(k)
  }
  let folded = chars.join('')
  let known = VOCABULARY.has(folded)
  if (!known && ambiguous.length > 0 && ambiguous.length <= 4) {
    const combos = 1 << ambiguous.length
    for (let mask = 1; mask < combos && !known; mask++) {
      const alt = chars.slice()
      for (let b = 0; b < ambiguous.length; b++) {
        const k = ambiguous[b] ?? 0
        const ch = token[k] ?? ''
        if (mask & (1 << b)) alt[k] = LEET_ALTERNATIVE[ch] ?? alt[k] ?? ''
        else alt[k] = LEET_DEFAULT[ch] ?? ch
      }
      const candidate = alt.join('')
      if (VOCABULARY.has(candidate)) {
        folded = candidate
        known = true
      }
    }
  }
  if (!known) {
    // Digits only before or only after the letters ("gpt4", "3d", "covid19", "2nd") are usually not leetspeak, nor
    // are hex ids ("e29b", "a1b2c3d4") or symbols alone ("high|low", "images!urls"): such tokens are folded only
    // into a known word ("th3", "ru135", "p@ssword", "k|ll").
    const interior = leetAt.some((k) => k > firstLetter && k < lastLetter)
    const digit = leetAt.some((k) => {
      const c = token.charCodeAt(k)
      return c >= 48 && c <= 57
    })
    if (!interior || !digit || HEX_TOKEN.test(token)) return undefined
  }
  return { text: folded, count: leetAt.length }
}

const LEET_HINT = /[a-z][0-9@$|!]|[0-9@$|!][a-z]/

function foldLeet(s: string): { text: string; count: number } {
  if (!LEET_HINT.test(s)) return { text: s, count: 0 }
  const parts: string[] = []
  let emittedTo = 0
  let count = 0
  const n = s.length
  let i = 0
  while (i < n) {
    if (!isLeetTokenChar(s.charCodeAt(i))) {
      i++
      continue
    }
    let j = i
    let letters = false
    let others = false
    for (; j < n; j++) {
      const c = s.charCodeAt(j)
      if (c >= 97 && c <= 122) letters = true
      else if (isLeetTokenChar(c)) others = true
      else break
    }
    if (!letters || !others) {
      i = j
      continue
    }
    // '!' at the edges of a token is punctuation ("stop!", "!important").
    let a = i
    let b = j
    while (a < b && s.charCodeAt(a) === 0x21) a++
    while (b > a && s.charCodeAt(b - 1) === 0x21) b--
    const before = a > 0 ? s.charCodeAt(a - 1) : 0
    // escapes (\u0069, %6e, &#105;), URL parts (/6ebr8cu, ?s=04685de) and long blobs (hashes, base64) are not words
    const skip = before === 0x5c || before === 0x25 || before === 0x23 || before === 0x2f || before === 0x3d || before === 0x3f
    if (b - a >= 2 && b - a <= MAX_LEET_TOKEN && !skip) {
      const token = s.slice(a, b)
      const at = token.indexOf('@')
      const emailAt = at >= 0 && looksLikeEmailDomain(s, a + at) ? at : -1
      const folded = foldLeetToken(token, emailAt)
      if (folded !== undefined) {
        parts.push(s.slice(emittedTo, a), folded.text)
        emittedTo = b
        count += folded.count
      }
    }
    i = j
  }
  if (parts.length === 0) return { text: s, count: 0 }
  parts.push(s.slice(emittedTo))
  return { text: parts.join(''), count }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders

function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return UTF8_FATAL.decode(bytes)
  } catch {
    return undefined
  }
}

/** Mostly printable text with letters in it: ≤ 5 % control/replacement characters, ≥ 25 % letters. */
function isReadable(t: string): boolean {
  if (t.length < 4) return false
  let bad = 0
  let letters = 0
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i)
    if (c < 0x20) {
      if (c !== 9 && c !== 10 && c !== 13) bad++
    } else if (c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0xfffd) bad++
    else if (isAsciiLetter(c) || c >= 0xc0) letters++
  }
  return bad * 20 <= t.length && letters * 4 >= t.length
}

const HEX_ONLY = /^[0-9A-Fa-f]{1,1000000}$/
// bit 1: base64 (both alphabets), bit 2: hex digit, bit 4: upper, bit 8: lower
const B64_CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  let bits = 0
  if (isAsciiAlnum(c) || c === 0x2b || c === 0x2f || c === 0x2d || c === 0x5f) bits |= 1
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)) bits |= 2
  if (c >= 65 && c <= 90) bits |= 4
  if (c >= 97 && c <= 122) bits |= 8
  B64_CLASS[c] = bits
}

function b64Bits(c: number): number {
  return c < 128 ? (B64_CLASS[c] ?? 0) : 0
}

interface DecodeContext {
  attempts: number
}

function tryHex(hex: string): string | undefined {
  if (hex.length < MIN_HEX || hex.length % 2 !== 0) return undefined
  const decoded = decodeUtf8Strict(Buffer.from(hex, 'hex'))
  return decoded !== undefined && isReadable(decoded) ? decoded : undefined
}

function tryBase64(body: string): string | undefined {
  if (body.length % 4 === 1) return undefined
  const decoded = decodeUtf8Strict(Buffer.from(body, 'base64'))
  return decoded !== undefined && decoded.length >= 6 && isReadable(decoded) ? decoded : undefined
}

/** base64 and hex runs (a run of base64/hex characters, optional '=' padding, MIME line wrapping followed). */
/** Whether the text holds a run of ≥ 16 base64 characters (a plain loop: faster than a regex here). */
function hasLongRun(s: string): boolean {
  let run = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 128 && ((B64_CLASS[c] ?? 0) & 1) !== 0) {
      if (++run >= MIN_HEX) return true
    } else run = 0
  }
  return false
}

function findBase64AndHex(s: string, ctx: DecodeContext): { base64: string[]; hex: string[] } {
  const base64: string[] = []
  const hex: string[] = []
  if (!hasLongRun(s)) return { base64, hex }
  const n = s.length
  let i = 0
  while (i < n && ctx.attempts < MAX_DECODE_ATTEMPTS) {
    if ((b64Bits(s.charCodeAt(i)) & 1) === 0) {
      i++
      continue
    }
    const runStart = i
    let bits = 0
    let j = i
    while (j < n) {
      const cb = b64Bits(s.charCodeAt(j))
      if ((cb & 1) === 0) break
      bits |= cb
      j++
    }
    if (j - runStart < MIN_HEX) {
      i = j + 1
      continue
    }
    let body = s.slice(runStart, j)
    // MIME-wrapped base64: full lines of ≥ 40 characters (a multiple of 4) continued on the next line
    let lineLength = j - runStart
    for (;;) {
      let k = j
      if (s.charCodeAt(k) === 13) k++
      if (!(lineLength >= 40 && lineLength % 4 === 0 && s.charCodeAt(k) === 10 && (b64Bits(s.charCodeAt(k + 1)) & 1) !== 0)) break
      const lineStart = k + 1
      j = lineStart
      while (j < n) {
        const cb = b64Bits(s.charCodeAt(j))
        if ((cb & 1) === 0) break
        bits |= cb
        j++
      }
      lineLength = j - lineStart
      body += s.slice(lineStart, j)
    }
    let end = j
    let pad = 0
    while (end < n && pad < 2 && s.charCodeAt(end) === 0x3d) {
      end++
      pad++
    }
    i = end
    const prefixed = body.startsWith('0x') || body.startsWith('0X')
    const hexBody = prefixed ? body.slice(2) : body
    if (pad === 0 && HEX_ONLY.test(hexBody)) {
      ctx.attempts++
      const decoded = tryHex(hexBody)
      if (decoded !== undefined) hex.push(decoded)
      continue // hex digits only: not worth a base64 attempt
    }
    if (body.length >= MIN_BASE64 && (bits & 4) !== 0 && (bits & 8) !== 0) {
      ctx.attempts++
      const decoded = tryBase64(body)
      if (decoded !== undefined) base64.push(decoded)
    }
  }
  return { base64, hex }
}

function isHexDigit(c: number): boolean {
  return (b64Bits(c) & 2) !== 0
}

function isHexSeparator(c: number): boolean {
  return c === 0x20 || c === 0x3a || c === 0x2c || c === 0x2d
}

/** Hex bytes separated by spaces, colons, commas or dashes: "69 67 6e 6f 72 65 …" (8 bytes at least). */
const SPACED_HEX_HINT = /[0-9A-Fa-f]{2}[ :,-]{1,2}[0-9A-Fa-f]{2}[ :,-]{1,2}[0-9A-Fa-f]{2}[ :,-]{1,2}[0-9A-Fa-f]{2}/

function findSpacedHex(s: string, ctx: DecodeContext): string[] {
  const out: string[] = []
  if (!SPACED_HEX_HINT.test(s)) return out
  const n = s.length
  let i = 0
  while (i + 1 < n && ctx.attempts < MAX_DECODE_ATTEMPTS) {
    // a pair of hex digits standing alone: not preceded nor followed by another hex digit
    if (!isHexDigit(s.charCodeAt(i)) || !isHexDigit(s.charCodeAt(i + 1)) || (i > 0 && isHexDigit(s.charCodeAt(i - 1)))) {
      i++
      continue
    }
    let bytes = ''
    let j = i
    let pairs = 0
    for (;;) {
      if (!isHexDigit(s.charCodeAt(j)) || !isHexDigit(s.charCodeAt(j + 1)) || isHexDigit(s.charCodeAt(j + 2))) break
      bytes += s.slice(j, j + 2)
      pairs++
      j += 2
      let k = j
      while (k < n && k - j < 2 && isHexSeparator(s.charCodeAt(k))) k++
      if (k === j) break
      if (!isHexDigit(s.charCodeAt(k))) break
      j = k
    }
    if (pairs >= 8) {
      ctx.attempts++
      const decoded = tryHex(bytes)
      if (decoded !== undefined) out.push(decoded)
    }
    i = Math.max(j, i + 1)
  }
  return out
}

const PERCENT_ESCAPE = /%[0-9A-Fa-f][0-9A-Fa-f]/g
const PERCENT_RUN = /(?:%[0-9A-Fa-f][0-9A-Fa-f]){1,8192}/g

function decodePercentRun(run: string): string {
  const bytes = new Uint8Array(run.length / 3)
  for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(run.slice(k * 3 + 1, k * 3 + 3), 16)
  return UTF8_LENIENT.decode(bytes)
}

/** URL-encoding: decoded when ≥ 3 escapes, or any escape of a letter or digit (which nobody needs to encode). */
function decodeUrl(s: string): string | undefined {
  if (s.indexOf('%') < 0) return undefined
  let total = 0
  let alnum = 0
  PERCENT_ESCAPE.lastIndex = 0
  for (let m = PERCENT_ESCAPE.exec(s); m !== null; m = PERCENT_ESCAPE.exec(s)) {
    total++
    if (isAsciiAlnum(parseInt(m[0].slice(1), 16))) alnum++
    if (total >= 3 && alnum > 0) break
  }
  if (total < 3 && alnum === 0) return undefined
  // Decode token by token; '+' is a space inside a token that carries escapes (form encoding).
  const parts: string[] = []
  const n = s.length
  let i = 0
  let start = 0
  while (i < n) {
    if (isSpace(s.charCodeAt(i))) {
      i++
      continue
    }
    let j = i + 1
    while (j < n && !isSpace(s.charCodeAt(j))) j++
    const token = s.slice(i, j)
    if (token.indexOf('%') >= 0) {
      PERCENT_RUN.lastIndex = 0
      const decoded = token.replace(/\+/g, ' ').replace(PERCENT_RUN, decodePercentRun)
      if (decoded !== token) {
        parts.push(s.slice(start, i), decoded)
        start = j
      }
    }
    i = j
  }
  if (parts.length === 0) return undefined
  parts.push(s.slice(start))
  return parts.join('')
}

const ESCAPE = /\\u\{[0-9A-Fa-f]{1,6}\}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}/g
const X_ESCAPE_RUN = /(?:\\x[0-9A-Fa-f][0-9A-Fa-f]){1,8192}/g

function escapeCodePoint(e: string): number {
  if (e[2] === '{') return parseInt(e.slice(3, -1), 16)
  return parseInt(e.slice(2), 16)
}

function countEscapes(s: string, re: RegExp, value: (m: string) => number): boolean {
  let total = 0
  let alnum = 0
  re.lastIndex = 0
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total++
    if (isAsciiAlnum(value(m[0]))) alnum++
    if (total >= 3 && alnum > 0) break
  }
  return total >= 3 || alnum > 0
}

/** \uXXXX, \u{X…}, \xXX (a run of \x escapes is read as UTF-8 bytes). */
function decodeEscapes(s: string): string | undefined {
  if (s.indexOf('\\') < 0 || !countEscapes(s, ESCAPE, escapeCodePoint)) return undefined
  X_ESCAPE_RUN.lastIndex = 0
  const bytesDone = s.replace(X_ESCAPE_RUN, (run) => {
    const bytes = new Uint8Array(run.length / 4)
    for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(run.slice(k * 4 + 2, k * 4 + 4), 16)
    return decodeUtf8Strict(bytes) ?? String.fromCharCode(...bytes)
  })
  ESCAPE.lastIndex = 0
  const out = bytesDone.replace(ESCAPE, (e) => {
    const cp = escapeCodePoint(e)
    if (e[2] !== '{') return String.fromCharCode(cp) // \uD83D\uDE00 pairs recombine
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : e
  })
  return out !== s ? out : undefined
}

const HTML_ENTITY = /&#[xX][0-9A-Fa-f]{1,6};|&#[0-9]{1,7};/g
const HTML_NAMED: Readonly<Record<string, string>> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'", '&nbsp;': ' ' }

function entityCodePoint(e: string): number {
  return e[2] === 'x' || e[2] === 'X' ? parseInt(e.slice(3, -1), 16) : parseInt(e.slice(2, -1), 10)
}

/** HTML numeric character references (&#105; &#x69;), with the common named ones alongside. */
function decodeHtmlEntities(s: string): string | undefined {
  if (s.indexOf('&#') < 0 || !countEscapes(s, HTML_ENTITY, entityCodePoint)) return undefined
  HTML_ENTITY.lastIndex = 0
  const out = s
    .replace(HTML_ENTITY, (e) => {
      const cp = entityCodePoint(e)
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : e
    })
    .replace(/&(?:lt|gt|amp|quot|apos|nbsp);/g, (e) => HTML_NAMED[e] ?? e)
  return out !== s ? out : undefined
}

function rot13(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 97 && c <= 122) out += String.fromCharCode(((c - 97 + 13) % 26) + 97)
    else if (c >= 65 && c <= 90) out += String.fromCharCode(((c - 65 + 13) % 26) + 65)
    else out += s[i]
  }
  return out
}

function reverseText(s: string): string {
  return Array.from(s).reverse().join('')
}

/** Words whose rot13 / reversal is itself an English word would make ordinary text look encoded: left out. */
const NOT_FOR_ROT13 = new Set(['be', 'or', 'an', 'na', 'no', 'ab', 'gnat', 'tang', 'green', 'terra', 'fur', 'she', 'fun'])
const NOT_FOR_REVERSAL = new Set([
  'are', 'was', 'now', 'not', 'but', 'top', 'time', 'step', 'stop', 'live', 'evil', 'tool', 'draw', 'keep', 'flow',
  'god', 'pool', 'room', 'spot', 'war', 'gas', 'may', 'yam', 'part', 'star', 'rats', 'dam', 'net', 'ten', 'tip',
  'won', 'saw', 'tub', 'pot', 'pets', 'emit', 'loot', 'peek', 'wolf', 'raw', 'mad', 'who', 'how', 'deliver', 'reward',
  'real', 'lla', 'ill', 'did', 'its', 'sub', 'bus', 'nit', 'tin', 'per', 'reg',
])
const ROT13_WORDS: ReadonlySet<string> = new Set(
  COMMON_WORDS.filter((w) => !NOT_FOR_ROT13.has(w) && !VOCABULARY.has(rot13(w))).map(rot13),
)
const REVERSED_WORDS: ReadonlySet<string> = new Set(
  COMMON_WORDS.filter((w) => w.length >= 3 && !NOT_FOR_REVERSAL.has(w) && !VOCABULARY.has(reverseText(w))).map(reverseText),
)

/** word → bit 1: common word, bit 2: rot13 of a common word, bit 4: reversal of a common word. */
const WORD_CODES = new Map<string, number>()
for (const w of VOCABULARY) WORD_CODES.set(w, (WORD_CODES.get(w) ?? 0) | 1)
for (const w of ROT13_WORDS) WORD_CODES.set(w, (WORD_CODES.get(w) ?? 0) | 2)
for (const w of REVERSED_WORDS) WORD_CODES.set(w, (WORD_CODES.get(w) ?? 0) | 4)
let longestCodeWord = 0
for (const w of WORD_CODES.keys()) longestCodeWord = Math.max(longestCodeWord, w.length)

function isSegmentBreak(c: number): boolean {
  return c === 10 || c === 0x2e || c === 0x21 || c === 0x3f || c === 0x3b || c === 0x3a || c === 0x22
}

/** (first, second, last letter) → bit per length of the rot13/reversed code words: skips the map lookup for almost
 * every ordinary word. */
const CODE_WORD_SHAPES = new Uint32Array(26 * 26 * 26)
function shapeKey(s: string, i: number, j: number): number {
  return (s.charCodeAt(i) - 97) * 676 + (s.charCodeAt(i + 1) - 97) * 26 + (s.charCodeAt(j - 1) - 97)
}
for (const [w, code] of WORD_CODES) {
  if ((code & 6) !== 0 && w.length < 32) {
    const key = shapeKey(w, 0, w.length)
    CODE_WORD_SHAPES[key] = (CODE_WORD_SHAPES[key] ?? 0) | (1 << w.length)
  }
}

/** Counts the words of a segment and those in the common-word list. */
function countPlainWords(norm: string, from: number, to: number): { words: number; plain: number } {
  let words = 0
  let plain = 0
  let i = from
  while (i < to) {
    const c = norm.charCodeAt(i)
    if (c < 97 || c > 122) {
      i++
      continue
    }
    let j = i + 1
    while (j < to) {
      const d = norm.charCodeAt(j)
      if (d < 97 || d > 122) break
      j++
    }
    if (j - i >= 2) {
      words++
      if (j - i <= longestCodeWord && ((WORD_CODES.get(norm.slice(i, j)) ?? 0) & 1) !== 0) plain++
    }
    i = j
  }
  return { words, plain }
}

/**
 * rot13 and reversed text, found segment by segment (sentences, lines): a segment is decoded when the decoded form
 * has at least two words of the word list, more than the segment itself, and at least a quarter of its words are.
 */
function findWordCodes(norm: string): { rot13: string[]; reversed: string[] } {
  const rotOut: string[] = []
  const revOut: string[] = []
  const n = norm.length
  let segStart = 0
  let rot = 0
  let rev = 0
  const closeSegment = (end: number): void => {
    if (rot >= 2 || rev >= 2) {
      const { words, plain } = countPlainWords(norm, segStart, end)
      const seg = norm.slice(segStart, end).trim()
      if (rot >= 2 && rot > plain && rot * 4 >= words) rotOut.push(rot13(seg))
      if (rev >= 2 && rev > plain && rev * 4 >= words) revOut.push(reverseText(seg))
    }
    rot = rev = 0
  }
  let i = 0
  while (i < n) {
    const c = norm.charCodeAt(i)
    if (c >= 97 && c <= 122) {
      let j = i + 1
      while (j < n) {
        const d = norm.charCodeAt(j)
        if (d < 97 || d > 122) break
        j++
      }
      const len = j - i
      if (len >= 2 && len < 32 && ((CODE_WORD_SHAPES[shapeKey(norm, i, j)] ?? 0) & (1 << len)) !== 0) {
        const code = WORD_CODES.get(norm.slice(i, j)) ?? 0
        if ((code & 2) !== 0) rot++
        if ((code & 4) !== 0) rev++
      }
      i = j
      continue
    }
    if (isSegmentBreak(c)) {
      closeSegment(i)
      segStart = i + 1
    }
    i++
  }
  closeSegment(n)
  return { rot13: rotOut, reversed: revOut }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

function clampInt(v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined || !Number.isFinite(v)) return def
  return Math.min(max, Math.max(min, Math.floor(v)))
}

interface Pending {
  clean: string
  normalized: string
  depth: number
  via: string[]
}

/**
 * Normalises a prompt and derives the variants the detectors look at. Never throws for string input; linear in the
 * (capped) input length.
 */
export function normalizePrompt(input: string, opts: NormalizeOptions = {}): NormalizedPrompt {
  const maxLength = clampInt(opts.maxLength, DEFAULT_MAX_LENGTH, 0, 10_000_000)
  const maxDecodeDepth = clampInt(opts.maxDecodeDepth, DEFAULT_MAX_DECODE_DEPTH, 0, 8)
  const maxVariants = clampInt(opts.maxVariants, DEFAULT_MAX_VARIANTS, 0, 64)

  const raw = typeof input === 'string' ? input : String(input ?? '')
  const truncated = raw.length > maxLength
  const original = truncated ? capStage(raw, maxLength) : raw

  const signals: NormalizationSignals = { zeroWidth: 0, bidiControls: 0, homoglyphs: 0, leet: 0, spacedRuns: 0, encodings: [] }
  const core = coreNormalize(original, signals, Math.max(maxLength, 1))
  const normalized = core.normalized
  const variants: TextVariant[] = [{ text: normalized, via: [] }]
  const seen = new Set<string>([normalized])
  const add = (text: string, via: string[]): boolean => {
    if (text.length === 0 || seen.has(text)) return false
    seen.add(text)
    variants.push({ text, via })
    return true
  }

  // Spaced-out letters and leetspeak (on the prompt itself).
  const spaced = collapseSpaced(core.lowered)
  let spacedText: string | undefined
  if (spaced.runs > 0) {
    spacedText = collapseWhitespace(spaced.text)
    if (spacedText !== normalized) signals.spacedRuns = spaced.runs
    else spacedText = undefined
  }
  const leet = foldLeet(normalized)
  if (leet.count > 0 && add(leet.text, ['leet'])) signals.leet = leet.count
  if (spacedText !== undefined) {
    add(spacedText, ['spaced'])
    const spacedLeet = foldLeet(spacedText)
    if (spacedLeet.count > 0 && add(spacedLeet.text, ['spaced', 'leet']) && signals.leet === 0) signals.leet = spacedLeet.count
  }

  // Decoded payloads, breadth-first so that outer encodings win the variant budget.
  let decodedKept = 0
  let budget = maxLength * 2
  const queue: Pending[] = [{ clean: core.clean, normalized, depth: 0, via: [] }]
  const keep = (payload: string, via: string[], depth: number): void => {
    if (decodedKept >= maxVariants || budget <= 0) return
    const text = capStage(payload, Math.min(maxLength, budget))
    budget -= text.length
    const inner = coreNormalize(text, signals, Math.max(maxLength, 1))
    if (!add(inner.normalized, via)) return
    decodedKept++
    for (const name of via) if (!signals.encodings.includes(name)) signals.encodings.push(name)
    if (depth < maxDecodeDepth) {
      for (const h of inner.hidden) queue.push({ clean: h.text, normalized: '', depth, via: [...via, h.via] })
      queue.push({ clean: inner.clean, normalized: inner.normalized, depth, via })
    }
  }
  if (maxDecodeDepth > 0) {
    for (const h of core.hidden) keep(h.text, [h.via], 1)
  }
  for (let q = 0; q < queue.length && decodedKept < maxVariants && budget > 0; q++) {
    const item = queue[q]
    if (item === undefined || item.depth >= maxDecodeDepth) continue
    if (item.normalized === '') {
      // a hidden payload collected while normalising a decoded text: keep it as the next level
      keep(item.clean, item.via, item.depth + 1)
      continue
    }
    const depth = item.depth + 1
    const ctx: DecodeContext = { attempts: 0 }
    const found: Array<[string, string[]]> = []
    const { base64, hex } = findBase64AndHex(item.clean, ctx)
    if (base64.length > 0) found.push(['base64', base64])
    const spacedHex = findSpacedHex(item.clean, ctx)
    if (hex.length > 0 || spacedHex.length > 0) found.push(['hex', [...hex, ...spacedHex]])
    const url = decodeUrl(item.clean)
    if (url !== undefined) found.push(['url', [url]])
    const escapes = decodeEscapes(item.clean)
    if (escapes !== undefined) found.push(['unicode_escape', [escapes]])
    const entities = decodeHtmlEntities(item.clean)
    if (entities !== undefined) found.push(['html_entity', [entities]])
    const words = findWordCodes(item.normalized)
    if (words.rot13.length > 0) found.push(['rot13', words.rot13])
    if (words.reversed.length > 0) found.push(['reversed', words.reversed])
    for (const [name, payloads] of found) keep(payloads.join('\n'), [...item.via, name], depth)
  }

  return { original, normalized, variants, truncated, signals }
}
