/**
 * Every file of the scanner corpus, against the whole registry: auto-detected as its scanner among all parsers,
 * parsed, and DefectDojo's count (or the deviation recorded with its reason in deviations/<scanner>.json).
 */
import { describe, expect, it } from 'vitest'
import { PARSERS } from '../../src/modules/scans/parsers/index.js'
import { ParserRegistry } from '../../src/modules/scans/parsers/registry.js'
import { loadManifest, runCorpusSuite } from './corpus.js'

const scanners = [...new Set(loadManifest().map((e) => e.scanner))].sort()

describe('parser registry', () => {
  it('has one parser per corpus scanner, and no name claimed twice', () => {
    const registry = new ParserRegistry(PARSERS)
    expect(registry.names().sort()).toEqual(scanners)
    expect(registry.resolve('grype')?.id).toBe('anchore_grype')
    expect(registry.resolve('Nessus')?.id).toBe('tenable')
  })
})

runCorpusSuite(PARSERS, scanners)
