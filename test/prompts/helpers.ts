import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/**
 * A file of the shared corpus (next to the checkout: ../shared/corpus). VV_TEST_CORPUS_DIR, which points at the
 * scanner corpus (…/corpus/scans) for a clone elsewhere, locates it too.
 */
export function corpusPath(rel: string): string {
  const roots = [
    process.env.VV_TEST_CORPUS_DIR ? join(process.env.VV_TEST_CORPUS_DIR, '..') : undefined,
    join(here, '../../../shared/corpus'),
    join(here, '../../../../shared/corpus'),
    '/work/shared/corpus',
  ].filter((c): c is string => Boolean(c))
  const found = roots.map((r) => join(r, rel)).find((p) => existsSync(p))
  if (!found) throw new Error(`Corpus file ${rel} not found under ${roots.join(', ')}; set VV_TEST_CORPUS_DIR`)
  return found
}
