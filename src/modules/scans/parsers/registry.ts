import type { ScanDocument, ScannerParser } from './types.js'

export interface Detection {
  parser: ScannerParser
  score: number
  /** Other parsers that also claimed the document, best first (for the job log). */
  runnersUp: { id: string; score: number }[]
}

/** The parsers by id and alias, and content-based detection over all of them. */
export class ParserRegistry {
  private readonly byName = new Map<string, ScannerParser>()

  constructor(readonly parsers: readonly ScannerParser[]) {
    for (const p of parsers) {
      for (const name of [p.id, ...(p.aliases ?? [])]) {
        const key = normalizeName(name)
        const existing = this.byName.get(key)
        if (existing && existing !== p) throw new Error(`Parser name "${name}" is claimed by ${existing.id} and ${p.id}`)
        this.byName.set(key, p)
      }
    }
  }

  /** The parser a `scanner_type` value names (id or alias; case, spaces and dashes ignored). */
  resolve(name: string): ScannerParser | undefined {
    return this.byName.get(normalizeName(name))
  }

  /** Every accepted `scanner_type` value. */
  names(): string[] {
    return this.parsers.map((p) => p.id)
  }

  /**
   * The parser whose detect() scores the document highest. Ties go to the parser whose id or alias appears in the
   * file name, then to registry order. A detector that throws counts as 0 (a bad file must not break detection).
   */
  detect(doc: ScanDocument): Detection | undefined {
    const hint = doc.filename.toLowerCase().replace(/[-\s]/g, '_')
    const scored: { parser: ScannerParser; score: number; hinted: boolean }[] = []
    for (const parser of this.parsers) {
      if (!parser.formats.includes(doc.kind)) continue
      let score = 0
      try {
        score = parser.detect(doc)
      } catch {
        score = 0
      }
      if (score > 0) scored.push({ parser, score, hinted: [parser.id, ...(parser.aliases ?? [])].some((n) => hint.includes(normalizeName(n))) })
    }
    if (scored.length === 0) return undefined
    scored.sort((a, b) => b.score - a.score || Number(b.hinted) - Number(a.hinted))
    const [best, ...rest] = scored
    return { parser: best!.parser, score: best!.score, runnersUp: rest.slice(0, 3).map((s) => ({ id: s.parser.id, score: s.score })) }
  }
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/[-\s]+/g, '_')
}
