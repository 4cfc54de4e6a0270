#!/usr/bin/env node
// Entry point of the `verivault` command. Runs the compiled CLI (dist/, built by `npm install` via `prepare`).
import { existsSync } from 'node:fs'

const entry = new URL('../dist/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('verivault: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first.\n')
  process.exit(1)
}
await import(entry.href)
