/**
 * The rule gates: every literal a pattern must begin with (rules.ts, requiredPrefixes) goes into one Aho–Corasick
 * automaton per compiled rule set, and a text is scanned once to learn which literals occur in it and where first.
 * A pattern runs only when one of its literals occurred, and its search starts at the earliest occurrence — so a rule
 * that cannot match costs a table lookup, not a regex scan.
 *
 * Line breaks are folded to spaces on both sides (a `\s` in a pattern is one space in its literals), literals are
 * lower-case and cut to MAX_LITERAL characters (a prefix of a required prefix is still required). Transitions are a
 * dense DFA over the characters that occur in literals (every other character is one class), so a scan is one table
 * lookup per character.
 */
export const MAX_LITERAL = 12

const fold = (c: number): number => (c === 10 ? 32 : c)

export class GateIndex {
  private readonly ids = new Map<string, number>()
  private readonly lengths: number[] = []
  private built = false
  /** ASCII character → dense class (0 = an ASCII character no literal contains). */
  private readonly asciiClass = new Int32Array(128)
  private classes = 1
  /** Trie edges: per state, ASCII class → state, and non-ASCII character → state. */
  private edges: Array<Map<number, number>> = [new Map()]
  private wide: Array<Map<number, number> | undefined> = [undefined]
  private fail = new Int32Array(0)
  private delta: Uint16Array | Int32Array = new Int32Array(0)
  /** Literal ids ending at each state (own and through failure links), flattened: outIds[outStart[s] .. outStart[s+1]). */
  private outStart = new Int32Array(1)
  private outIds = new Int32Array(0)
  private lengthOf = new Int32Array(0)
  private tail = new Int32Array(0)
  private ownOut: Array<number[] | undefined> = [undefined]

  /** The id of a literal (lower-case), added to the index; only before the first scan. */
  add(literal: string): number {
    let lit = ''
    for (let i = 0; i < literal.length && lit.length < MAX_LITERAL; i++) lit += String.fromCharCode(fold(literal.charCodeAt(i)))
    const known = this.ids.get(lit)
    if (known !== undefined) return known
    if (this.built) throw new Error('GateIndex: add() after scan()')
    const id = this.ids.size
    this.ids.set(lit, id)
    this.lengths.push(lit.length)
    let s = 0
    for (let i = 0; i < lit.length; i++) {
      const c = lit.charCodeAt(i)
      let next: number | undefined
      if (c < 128) {
        if (this.asciiClass[c] === 0) this.asciiClass[c] = this.classes++
        const k = this.asciiClass[c]!
        next = this.edges[s]!.get(k)
        if (next === undefined) this.edges[s]!.set(k, (next = this.newState()))
      } else {
        next = this.wide[s]?.get(c)
        if (next === undefined) (this.wide[s] ??= new Map()).set(c, (next = this.newState()))
      }
      s = next
    }
    ;(this.ownOut[s] ??= []).push(id)
    return id
  }

  private newState(): number {
    this.edges.push(new Map())
    this.wide.push(undefined)
    this.ownOut.push(undefined)
    return this.edges.length - 1
  }

  get size(): number {
    return this.ids.size
  }

  private build(): void {
    const n = this.edges.length
    const K = this.classes
    const fail = new Int32Array(n)
    const delta = new Int32Array(n * K)
    const outs: Array<number[] | undefined> = new Array(n)
    this.fail = fail
    const queue: number[] = [0]
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!
      const f = fail[s]!
      const own = this.ownOut[s]
      const inherited = s === 0 ? undefined : outs[f]
      outs[s] = own && inherited ? [...own, ...inherited] : (own ?? inherited)
      const e = this.edges[s]!
      for (let k = 0; k < K; k++) {
        const g = e.get(k)
        if (g !== undefined) {
          fail[g] = s === 0 ? 0 : delta[f * K + k]!
          delta[s * K + k] = g
          queue.push(g)
        } else delta[s * K + k] = s === 0 ? 0 : delta[f * K + k]!
      }
      const w = this.wide[s]
      if (w) {
        for (const [c, g] of w) {
          fail[g] = s === 0 ? 0 : this.step(f, c)
          queue.push(g)
        }
      }
    }
    // half the memory (and cache misses) when the states fit in 16 bits
    this.delta = n <= 0xffff ? Uint16Array.from(delta) : delta
    this.outStart = new Int32Array(n + 1)
    for (let i = 0; i < n; i++) this.outStart[i + 1] = this.outStart[i]! + (outs[i]?.length ?? 0)
    this.outIds = new Int32Array(this.outStart[n]!)
    for (let i = 0; i < n; i++) this.outIds.set(outs[i] ?? [], this.outStart[i]!)
    this.lengthOf = Int32Array.from(this.lengths)
    this.tail = new Int32Array(this.lengths.length)
    this.edges = []
    this.ownOut = []
    this.built = true
  }

  /** The transition on a non-ASCII character: the trie edge, or the failure chain's. */
  private step(state: number, c: number): number {
    let s = state
    for (;;) {
      const g = this.wide[s]?.get(c)
      if (g !== undefined) return g
      if (s === 0) return 0
      s = this.fail[s]!
    }
  }

  /**
   * Scans `text` (lower-case, normalised) for every literal: where each first begins, and up to MAX_OCCURRENCES
   * places where it begins (a linked list per literal), so that a pattern can be tried right there.
   */
  scan(text: string): GateScan {
    if (!this.built) this.build()
    const size = this.ids.size
    const first = new Int32Array(size).fill(-1)
    const head = new Int32Array(size).fill(-1)
    // scratch, valid per id only once first[id] >= 0 in this scan
    const tail = this.tail
    const count = new Uint8Array(size)
    const pos = new Int32Array(MAX_PAIRS)
    const next = new Int32Array(MAX_PAIRS)
    let pairs = 0
    const seen: number[] = []
    const { delta, outStart, outIds, asciiClass, lengthOf } = this
    const K = this.classes
    const n = text.length
    let s = 0
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      s = c < 128 ? delta[s * K + asciiClass[c === 10 ? 32 : c]!]! : this.step(s, c)
      const end = outStart[s + 1]!
      for (let j = outStart[s]!; j < end; j++) {
        const id = outIds[j]!
        const at = i + 1 - lengthOf[id]!
        if (first[id]! < 0) {
          first[id] = at
          seen.push(id)
        }
        const k = count[id]!
        if (k > MAX_OCCURRENCES) continue
        count[id] = k + 1
        if (k === MAX_OCCURRENCES || pairs >= MAX_PAIRS) {
          count[id] = MAX_OCCURRENCES + 1
          continue
        }
        const p = pairs++
        pos[p] = at
        next[p] = -1
        if (k === 0) head[id] = p
        else next[tail[id]!] = p
        tail[id] = p
      }
    }
    return { first, head, count, pos, next, seen }
  }
}

/** Occurrences recorded per literal; a literal seen more often is searched for from its first occurrence instead. */
export const MAX_OCCURRENCES = 8
const MAX_PAIRS = 1024

export interface GateScan {
  /** Where each literal first begins, -1 when it does not occur. */
  first: Int32Array
  /** Index (in pos/next) of each literal's first recorded occurrence, -1 when none. */
  head: Int32Array
  /** Occurrences seen, capped at MAX_OCCURRENCES + 1 (= too many to list). */
  count: Uint8Array
  pos: Int32Array
  next: Int32Array
  /** The ids of the literals that occur, in order of first occurrence. */
  seen: number[]
}

/**
 * Where a pattern gated by literal ids `gate` can begin in a scanned text: the sorted start positions, 'none' when no
 * literal occurs, or a number (the earliest start) when a literal occurs too often to list.
 */
export function gateStarts(scan: GateScan, gate: Int32Array): number[] | number | 'none' {
  let firstAt = -1
  let many = false
  for (let k = 0; k < gate.length; k++) {
    const id = gate[k]!
    const f = scan.first[id]!
    if (f < 0) continue
    if (firstAt < 0 || f < firstAt) firstAt = f
    if (scan.count[id]! > MAX_OCCURRENCES) many = true
  }
  if (firstAt < 0) return 'none'
  if (many) return firstAt
  const out: number[] = []
  for (let k = 0; k < gate.length; k++) {
    for (let p = scan.head[gate[k]!]!; p >= 0; p = scan.next[p]!) out.push(scan.pos[p]!)
  }
  if (gate.length > 1) out.sort((a, b) => a - b)
  return out
}
