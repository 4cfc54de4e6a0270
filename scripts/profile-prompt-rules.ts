/**
 * Where the rule packs spend their time: every regex pattern timed over ~1 KB prompts the way the engine runs it
 * (behind its literal gate, anchored at the literal's occurrences), slowest first. For rule authors:
 *
 *   node --import tsx scripts/profile-prompt-rules.ts [data.jsonl] [--top 40]
 *
 * A pattern marked UNGATED has no literal that every match begins with or contains, so it is searched in every
 * prompt; give it one (a word, or an alternation of words, of four or more characters) or make it cheap.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { compileRules, builtinRules } from '../src/modules/prompts/engine/matcher.js'
import { normalizePrompt } from '../src/modules/prompts/engine/normalize.js'
import { gateStarts } from '../src/modules/prompts/engine/gates.js'

const args = process.argv.slice(2)
const topAt = args.indexOf('--top')
const top = topAt >= 0 ? Number(args[topAt + 1]) : 40
const file = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--top') ?? '../shared/corpus/prompts/dev.jsonl')
const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string })
const texts = rows.map((r) => {
  let t = r.text
  while (t.length < 1024) t += ` ${r.text}`
  return normalizePrompt(t.slice(0, 1024)).normalized
})
const compiled = compileRules(builtinRules())
const index = compiled[0]!.index
const scans = texts.map((t) => index.scan(t))

interface Cost { id: string; pattern: string; gated: boolean; us: number; opened: number }
const costs: Cost[] = []
for (const c of compiled) {
  c.regexes.forEach((re, i) => {
    const gate = c.gates[i] ?? null
    const req = c.requires[i] ?? null
    const sticky = c.sticky[i]!
    let opened = 0
    const run = () => texts.forEach((t, j) => {
      if (req && !req.some((id) => scans[j]!.first[id]! >= 0)) return
      if (!gate) { opened++; re.lastIndex = 0; re.exec(t); return }
      const starts = gateStarts(scans[j]!, gate)
      if (starts === 'none') return
      opened++
      if (typeof starts === 'number') { re.lastIndex = starts; re.exec(t); return }
      for (const s of starts) { sticky.lastIndex = s; if (sticky.exec(t)) break }
    })
    run()
    opened = 0
    const t0 = performance.now()
    for (let k = 0; k < 3; k++) run()
    costs.push({ id: `${c.rule.id}#${i}`, pattern: c.rule.patterns[i]!, gated: gate !== null || req !== null, us: ((performance.now() - t0) / 3 / texts.length) * 1000, opened: opened / 3 / texts.length })
  })
}
costs.sort((a, b) => b.us - a.us)
const total = costs.reduce((s, c) => s + c.us, 0)
console.log(`${costs.length} patterns over ${texts.length} prompts of ~1 KB (${file}); gate literals: ${index.size}`)
console.log(`total ${total.toFixed(1)} µs per prompt; ungated patterns: ${costs.filter((c) => !c.gated).length}`)
for (const c of costs.slice(0, top)) {
  console.log(`${c.us.toFixed(2).padStart(7)} µs  open ${(c.opened * 100).toFixed(0).padStart(3)}%  ${c.gated ? '       ' : 'UNGATED'}  ${c.id}  ${c.pattern.slice(0, 110)}`)
}
