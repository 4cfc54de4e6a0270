/**
 * The README's SDK examples (```ts blocks preceded by `<!-- sdk-example -->`) are run as written: `verivault/sdk` is
 * pointed at the source, each example goes to a temporary .ts file inside the repo and runs under
 * `node --import tsx`, with SECUREVECTOR_API_* pointing at a running test app. An example fails the test by throwing.
 */
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, createTestApp, type TestApp } from '../helpers/app.js'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')

/** The marked examples, with the line each starts on (for failure messages). */
function sdkExamples(text: string): { code: string; line: number }[] {
  const out: { code: string; line: number }[] = []
  const re = /<!--\s*sdk-example\s*-->\s*\n```ts\n([\s\S]*?)\n```/g
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ code: m[1]!, line: text.slice(0, m.index).split('\n').length + 2 })
  }
  return out
}

const examples = sdkExamples(readme)
/** Points `verivault/sdk` at the source (the package export resolves to dist/, which needs a build). */
const toSource = (code: string) => code.replace(/from 'verivault\/sdk'/g, "from '../../src/sdk/index.js'")
let t: TestApp
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  t = await createTestApp()
  const base = await t.app.listen({ port: 0, host: '127.0.0.1' })
  const tenant = await createTenant(t.platform, 'sdk-readme')
  const key = await tenant.apiKey('security_engineer', 'professional')
  env = { ...process.env, SECUREVECTOR_API_URL: base, SECUREVECTOR_API_KEY: key, SECUREVECTOR_USER_TIER: 'professional' }
})
afterAll(async () => {
  await t.close()
})

describe('README SDK examples', () => {
  it('the README has SDK examples, each importing verivault/sdk', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3)
    for (const e of examples) expect(e.code, `example at README line ${e.line}`).toMatch(/from 'verivault\/sdk'/)
  })

  it('the examples type-check (strict, as a user of verivault/sdk would compile them)', async () => {
    const tag = `.tmp-readme-tsc-${process.pid}`
    const files = examples.map((e, i) => {
      const file = join(here, `${tag}-${i + 1}.ts`)
      // `export {}` makes each a module, so top-level names do not clash across examples.
      writeFileSync(file, `${toSource(e.code)}\nexport {}\n`)
      return file
    })
    const config = join(here, `${tag}.json`)
    writeFileSync(config, JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '../..' }, include: [`${tag}-*.ts`] }))
    try {
      await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: root, timeout: 60_000 })
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string }
      throw new Error(`README examples do not type-check:\n${e.stdout || e.stderr || e.message}`)
    } finally {
      for (const f of [...files, config]) rmSync(f, { force: true })
    }
  }, 90_000)

  for (const [i, example] of examples.entries()) {
    it(`example ${i + 1} (README line ${example.line}) runs without throwing`, async () => {
      const file = join(here, `.tmp-readme-${process.pid}-${i + 1}.ts`)
      writeFileSync(file, toSource(example.code))
      try {
        await run(process.execPath, ['--import', 'tsx', file], { cwd: root, env, timeout: 60_000 })
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string }
        throw new Error(`README example at line ${example.line} failed:\n${e.stderr || e.stdout || e.message}`)
      } finally {
        rmSync(file, { force: true })
      }
    }, 90_000)
  }
})
