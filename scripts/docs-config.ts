// Regenerates .env.example and the README's configuration table from src/config.ts (npm run docs:config).
import { readFileSync, writeFileSync } from 'node:fs'
import { renderConfigTable, renderEnvExample } from '../src/config.js'

writeFileSync('.env.example', renderEnvExample())
const readme = readFileSync('README.md', 'utf8')
const begin = '<!-- config:begin -->'
const end = '<!-- config:end -->'
const start = readme.indexOf(begin)
const stop = readme.indexOf(end)
if (start < 0 || stop < 0) throw new Error('README.md lacks the config markers')
writeFileSync('README.md', `${readme.slice(0, start + begin.length)}\n${renderConfigTable()}\n${readme.slice(stop)}`)
process.stdout.write('updated .env.example and README.md\n')
