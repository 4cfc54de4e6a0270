/**
 * The scanner corpus (../shared/corpus/scans) as test data: the manifest, loading a file, and a table-driven suite
 * that checks detection, DefectDojo's finding counts and rejections for every file of the given scanners.
 *
 * Deliberate differences from DefectDojo live in test/scans/deviations/<scanner>.json:
 *   { "<file as in the manifest>": { "count": 12, "reason": "why we differ (a documented policy)" },
 *     "<file>": { "rejected": true, "reason": "…" } }
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadDocument } from '../../src/modules/scans/parsers/document.js'
import { EmptyReportError } from '../../src/modules/scans/parsers/util.js'
import type { ParseResult, ScanDocument, ScannerParser } from '../../src/modules/scans/parsers/types.js'

const here = dirname(fileURLToPath(import.meta.url))

/**
 * The shared corpus sits next to the checkout (../shared/corpus/scans); VV_TEST_CORPUS_DIR points elsewhere, e.g.
 * for a clone in another directory.
 */
function corpusDir(): string {
  const candidates = [
    process.env.VV_TEST_CORPUS_DIR,
    join(here, '../../../shared/corpus/scans'),
    join(here, '../../../../shared/corpus/scans'),
    '/work/shared/corpus/scans',
  ].filter((c): c is string => Boolean(c))
  const found = candidates.find((c) => existsSync(join(c, 'manifest.json')))
  if (!found) throw new Error(`Scanner corpus not found (looked in ${candidates.join(', ')}); set VV_TEST_CORPUS_DIR`)
  return found
}
export const CORPUS_DIR = corpusDir()

export interface ManifestEntry {
  file: string
  scanner: string
  format: string
  bytes: number
  expected_findings: number | null
  notes: string | null
  fabricated: boolean
}

export interface Deviation { count?: number; rejected?: boolean; detectedAs?: string; reason: string }

export function loadManifest(): ManifestEntry[] {
  return JSON.parse(readFileSync(join(CORPUS_DIR, 'manifest.json'), 'utf8')) as ManifestEntry[]
}

export function deviationsFor(scanner: string): Record<string, Deviation> {
  const p = join(here, 'deviations', `${scanner}.json`)
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as Record<string, Deviation> : {}
}

export function corpusDocument(file: string): ScanDocument {
  return loadDocument(file.split('/').pop()!, readFileSync(join(CORPUS_DIR, file)))
}

/** Highest-scoring parser id for the document among `parsers` (undefined when all say 0). */
export function detectAmong(parsers: readonly ScannerParser[], doc: ScanDocument): string | undefined {
  let best: { id: string; score: number } | undefined
  for (const p of parsers) {
    if (!p.formats.includes(doc.kind)) continue
    const score = p.detect(doc)
    if (score > 0 && (!best || score > best.score)) best = { id: p.id, score }
  }
  return best?.id
}

export interface ParsedWithLog extends ParseResult { repairs: string[]; warnings: string[] }

export function parseWith(parser: ScannerParser, doc: ScanDocument, fixData = true): ParsedWithLog {
  const repairs: string[] = []
  const warnings: string[] = []
  const r = parser.parse(doc, { fixData, repair: (m) => repairs.push(m), warn: (m) => warnings.push(m) })
  return { ...r, repairs, warnings }
}

/** Files DefectDojo's tests expect its parser to reject. */
export function expectsRejection(e: ManifestEntry): boolean {
  return /parser expected to raise/i.test(e.notes ?? '')
}

/**
 * For every manifest file of `scanners`: the file is detected as its scanner among `parsers` (all parsers of the
 * registry, in the full suite), parses without throwing, and yields DefectDojo's count — or the recorded deviation.
 */
export function runCorpusSuite(parsers: readonly ScannerParser[], scanners: readonly string[]) {
  const entries = loadManifest().filter((e) => scanners.includes(e.scanner))
  for (const scanner of scanners) {
    const files = entries.filter((e) => e.scanner === scanner)
    const deviations = deviationsFor(scanner)
    describe(`corpus: ${scanner}`, () => {
      it('has a parser and files', () => {
        expect(parsers.map((p) => p.id)).toContain(scanner)
        expect(files.length).toBeGreaterThan(0)
      })
      for (const e of files) {
        const dev = deviations[e.file]
        if (dev) expect(dev.reason.length, `${e.file}: a deviation needs a reason`).toBeGreaterThan(10)
        it(`${e.file}${e.expected_findings !== null ? ` → ${e.expected_findings}` : ''}`, () => {
          const parser = parsers.find((p) => p.id === scanner)!
          const rejected = dev?.rejected ?? expectsRejection(e)
          let doc: ScanDocument
          try {
            doc = corpusDocument(e.file)
          } catch (err) {
            // An empty report (0 bytes or JSON null): with the scanner named, the import yields nothing.
            if (err instanceof EmptyReportError && (dev?.count ?? e.expected_findings ?? 0) === 0) return
            if (rejected) return
            throw err
          }
          expect(detectAmong(parsers, doc), 'auto-detected scanner').toBe(dev?.detectedAs ?? scanner)
          if (rejected) {
            expect(() => parseWith(parser, doc)).toThrow()
            return
          }
          const r = parseWith(parser, doc)
          const keys = new Set(r.assets.map((a) => a.key))
          for (const f of r.findings) {
            expect(keys.has(f.assetKey), `finding "${f.title}" points at a listed asset`).toBe(true)
            expect(f.title.length).toBeGreaterThan(0)
          }
          const expected = dev?.count ?? e.expected_findings
          if (expected !== null && expected !== undefined) expect(r.findings.length, 'findings').toBe(expected)
        })
      }
    })
  }
}
