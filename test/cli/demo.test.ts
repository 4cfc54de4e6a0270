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
      const findings = await (await fetch(`${url}/api/v1/findings?source=spectrastrike`, { headers: { 'x-api-key': key } })).json() as { pagination: { total: number } }
      expect(findings.pagination.total).toBe(4)
      // The seeded scanner import completes and is exported to the fake Phoenix the demo started.
      const jobId = /jobs\/(job-[0-9a-f]{24})/.exec(banner)![1]!
      expect(banner).toMatch(/Phoenix Security API: http:\/\/127\.0\.0\.1:\d+/)
      let job: Record<string, any> = {}
      for (let i = 0; i < 200 && job.status !== 'completed' && job.status !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 100))
        job = await (await fetch(`${url}/api/v1/jobs/${jobId}`, { headers: { 'x-api-key': key } })).json() as Record<string, any>
      }
      expect(job).toMatchObject({ status: 'completed', scanner_type: 'trivy', vulnerabilities_imported: 3, assessment_name: 'Demo container scan' })
      expect(job.batch_summary.phoenix.requests.length).toBeGreaterThanOrEqual(1)
      const events = await (await fetch(`${url}/api/v1/events`, { headers: { 'x-api-key': key } })).json() as { pagination: { total: number } }
      expect(events.pagination.total).toBe(5)
      const login = await fetch(`${url}/api/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'demo', email: user, password }) })
      expect(login.status).toBe(200)
    } finally {
      child.kill('SIGTERM')
    }
  }, 90_000)
})
