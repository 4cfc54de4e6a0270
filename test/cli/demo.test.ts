import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('verivault demo', () => {
  it('starts a seeded server and prints working credentials', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'demo', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', VV_LOG_LEVEL: 'warn' },
    })
    try {
      let stderr = ''
      const banner = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo did not start:\n${stderr}`)), 60_000)
        child.stderr.on('data', (d: Buffer) => {
          stderr += d
          if (stderr.includes('Press Ctrl+C')) { clearTimeout(timer); resolve(stderr) }
        })
        child.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${stderr}`)))
      })
      const url = /demo running at (http:\/\/\S+)/.exec(banner)![1]!
      const key = /admin API key:\s+(vv_\S+)/.exec(banner)![1]!
      const [user, password] = /admin user:\s+(\S+) \/ (\S+)/.exec(banner)!.slice(1) as [string, string]
      const findings = await (await fetch(`${url}/api/v1/findings`, { headers: { 'x-api-key': key } })).json() as { pagination: { total: number } }
      expect(findings.pagination.total).toBe(4)
      const events = await (await fetch(`${url}/api/v1/events`, { headers: { 'x-api-key': key } })).json() as { pagination: { total: number } }
      expect(events.pagination.total).toBe(5)
      const login = await fetch(`${url}/api/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'demo', email: user, password }) })
      expect(login.status).toBe(200)
    } finally {
      child.kill('SIGTERM')
    }
  }, 90_000)
})
