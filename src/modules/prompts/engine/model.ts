/**
 * The statistical model of the professional and enterprise tiers: logistic regression over hashed features of the
 * normalised prompt — character 3/4/5-grams (which carry across languages and spelling tricks) and word uni/bigrams —
 * L2-normalised. Trained by `npm run train:prompts` (scripts/train-prompt-model.ts) from the labelled development
 * data and our rules' test cases, and shipped as assets/prompts/model.json (int8-quantised weights, base64).
 *
 * The same file holds the calibration: per tier, a second logistic model that combines the evidence of rule hits,
 * heuristics and (professional+) this model's logit into one probability, with its bias placed so that probability
 * 0.5 (risk_score 50) is the operating point chosen on cross-validated data.
 *
 * Featurisation is linear in the input (capped at MODEL_MAX_CHARS) and allocation-light: bucket counts go into a
 * reusable scratch array.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const MODEL_FILE = fileURLToPath(new URL('../../../../assets/prompts/model.json', import.meta.url))
/** Characters of the normalised prompt the model reads. */
export const MODEL_MAX_CHARS = 6_000

export interface CalibrationWeights {
  bias: number
  /** Weight per evidence feature name (see EVIDENCE_FEATURES in scoring.ts). */
  weights: Record<string, number>
}

export interface ModelFile {
  version: number
  /** log2 of the number of hash buckets. */
  bits: number
  /** Dequantisation scale: weight = int8 × scale. */
  scale: number
  bias: number
  /** base64 of the int8 weights (2^bits bytes). */
  weights: string
  calibration: { community: CalibrationWeights; professional: CalibrationWeights }
  /** What the training script measured (cross-validated), for the record. */
  training: Record<string, unknown>
}

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

function isWordChar(c: number): boolean {
  // ASCII letters/digits, and everything non-ASCII that is not whitespace or common punctuation
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 39
  return !(c === 0x3000 || c === 0x3001 || c === 0x3002 || c === 0xff0c || c === 0xff01 || c === 0xff1f || (c >= 0x2000 && c <= 0x206f))
}

/**
 * Calls `emit(bucket)` once per feature occurrence of `text`: char n-grams (n = 3..5, over the text with whitespace
 * runs as single spaces, padded with a space) and word unigrams and bigrams.
 */
export function forEachFeature(text: string, bits: number, emit: (bucket: number) => void): void {
  const mask = (1 << bits) - 1
  const n = Math.min(text.length, MODEL_MAX_CHARS)
  // character n-grams over a space-padded, whitespace-collapsed view
  const buf = new Uint16Array(n + 2)
  let len = 0
  buf[len++] = 32
  let prevSpace = true
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i)
    if (c === 10 || c === 9 || c === 13) c = 32
    if (c === 32) {
      if (prevSpace) continue
      prevSpace = true
    } else prevSpace = false
    buf[len++] = c
  }
  if (!prevSpace) buf[len++] = 32
  for (let i = 0; i + 3 <= len; i++) {
    let h = FNV_OFFSET
    for (let k = 0; k < 5 && i + k < len; k++) {
      h = Math.imul(h ^ buf[i + k]!, FNV_PRIME)
      if (k >= 2) emit((Math.imul(h ^ (k + 1), 0x9e3779b1) >>> 7) & mask)
    }
  }
  // words and word bigrams
  let prev = 0
  let hasPrev = false
  forEachWord(text, n, (_s, _e, h) => {
    emit((Math.imul(h, 0x85ebca6b) >>> 9) & mask)
    if (hasPrev) emit((Math.imul(prev ^ Math.imul(h, 31), 0xc2b2ae35) >>> 9) & mask)
    prev = h
    hasPrev = true
  })
}

/** Calls `cb(start, end, hash)` for each word of text[0, n) (a word's hash covers at most its first 40 characters). */
function forEachWord(text: string, n: number, cb: (start: number, end: number, hash: number) => void): void {
  let i = 0
  while (i < n) {
    while (i < n && !isWordChar(text.charCodeAt(i))) i++
    if (i >= n) break
    const start = i
    let h = FNV_OFFSET ^ 0x5bd1e995
    let wl = 0
    while (i < n && isWordChar(text.charCodeAt(i)) && wl < 40) {
      h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME)
      i++
      wl++
    }
    while (i < n && isWordChar(text.charCodeAt(i))) i++
    cb(start, i, h)
  }
}

/** A sparse, L2-normalised feature vector. */
export interface SparseVector {
  idx: Int32Array
  val: Float32Array
}

/** Featurises `text` into a sparse vector (used by training; inference uses the scratch path in PromptModel). */
export function featurize(text: string, bits: number): SparseVector {
  const counts = new Map<number, number>()
  forEachFeature(text, bits, (b) => counts.set(b, (counts.get(b) ?? 0) + 1))
  const idx = new Int32Array(counts.size)
  const val = new Float32Array(counts.size)
  let sq = 0
  let k = 0
  for (const [b, c] of counts) {
    idx[k] = b
    val[k] = c
    sq += c * c
    k++
  }
  const norm = sq > 0 ? 1 / Math.sqrt(sq) : 0
  for (let j = 0; j < val.length; j++) val[j]! *= norm
  return { idx, val }
}

export class PromptModel {
  readonly bits: number
  /** Quantised weights (weight = q × scale): an eighth of the memory of floats, so fewer cache misses per feature. */
  private readonly q: Int8Array
  private readonly scale: number
  private readonly bias: number
  /** Per-bucket feature counts of the text being scored, cleared after each use. */
  private readonly scratch: Uint16Array
  private readonly touched: Int32Array
  readonly calibration: ModelFile['calibration']
  readonly training: Record<string, unknown>

  constructor(file: ModelFile) {
    if (file.version !== 1 || !(file.bits >= 10 && file.bits <= 24)) throw new Error(`Unsupported prompt model file (version ${file.version}, bits ${file.bits})`)
    this.bits = file.bits
    const bytes = Buffer.from(file.weights, 'base64')
    if (bytes.length !== 1 << file.bits) throw new Error(`Prompt model has ${bytes.length} weights, expected ${1 << file.bits}`)
    this.q = new Int8Array(bytes.length)
    this.q.set(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length))
    this.scale = file.scale
    this.bias = file.bias
    this.scratch = new Uint16Array(1 << file.bits)
    this.touched = new Int32Array(MODEL_MAX_CHARS * 3 + MODEL_MAX_CHARS * 2 + 16)
    this.calibration = file.calibration
    this.training = file.training
  }

  /**
   * The words and word pairs of `normalized` that push the model hardest towards "attack", strongest first — the
   * model's explanation of a verdict.
   */
  topCues(normalized: string, k = 5): string[] {
    const n = Math.min(normalized.length, MODEL_MAX_CHARS)
    const mask = (1 << this.bits) - 1
    const cues = new Map<string, number>()
    let prev: { s: number; h: number } | undefined
    forEachWord(normalized, n, (s, e, h) => {
      const uni = this.q[(Math.imul(h, 0x85ebca6b) >>> 9) & mask]!
      if (uni > 0) cues.set(normalized.slice(s, e), uni)
      if (prev) {
        const bi = this.q[(Math.imul(prev.h ^ Math.imul(h, 31), 0xc2b2ae35) >>> 9) & mask]!
        if (bi > 0) cues.set(normalized.slice(prev.s, e), bi)
      }
      prev = { s, h }
    })
    return [...cues.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([t]) => t)
  }

  /** The model's log-odds that `normalized` is an attack. */
  logit(normalized: string): number {
    const scratch = this.scratch
    const touched = this.touched
    let nt = 0
    forEachFeature(normalized, this.bits, (b) => {
      const c = scratch[b]!
      if (c === 0) touched[nt++] = b
      scratch[b] = c + 1
    })
    const q = this.q
    let sq = 0
    let dot = 0
    for (let k = 0; k < nt; k++) {
      const b = touched[k]!
      const c = scratch[b]!
      sq += c * c
      dot += c * q[b]!
      scratch[b] = 0
    }
    return sq > 0 ? this.bias + (dot * this.scale) / Math.sqrt(sq) : this.bias
  }
}

let shipped: PromptModel | null | undefined
/** The shipped model, loaded once; null when the file is missing (then professional scores like community). */
export function shippedModel(): PromptModel | null {
  if (shipped === undefined) {
    try {
      shipped = new PromptModel(JSON.parse(readFileSync(MODEL_FILE, 'utf8')) as ModelFile)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      shipped = null
    }
  }
  return shipped
}
