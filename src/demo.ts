import { readFileSync } from 'node:fs'
import type { Config } from './config.js'
import { generatePassword } from './platform/auth/passwords.js'
import { startServer } from './server.js'
import { startFakePhoenix } from './fakes/phoenix.js'

/**
 * `verivault demo`: a fresh server in a temporary data dir with tenant `demo`, two users, API keys and a
 * token printed, and a little SpectraStrike data ingested through the real API so every list has content.
 */
export async function runDemo(baseConfig: Config): Promise<void> {
  // Local fakes of the third-party services, and the config pointing at them.
  const phoenixSecret = generatePassword()
  const phoenix = await startFakePhoenix({ clientId: 'demo-client', clientSecret: phoenixSecret })
  const config: Config = { ...baseConfig, PHOENIX_API_URL: phoenix.url, PHOENIX_CLIENT_ID: 'demo-client', PHOENIX_CLIENT_SECRET: phoenixSecret }
  const running = await startServer(config, { announce: false })
  running.platform.onClose(() => phoenix.close())
  const { platform, url } = running
  const tenant = (await platform.identity.findTenant('demo')) ?? await platform.identity.createTenant('demo', 'Demo Security Team')
  const adminPassword = generatePassword()
  const analystPassword = generatePassword()
  await platform.identity.createUser(tenant.id, 'admin@demo.local', 'admin', adminPassword)
  await platform.identity.createUser(tenant.id, 'analyst@demo.local', 'analyst', analystPassword)
  const adminKey = await platform.identity.createApiKey(tenant.id, { role: 'admin', name: 'demo-admin' })
  const engineerKey = await platform.identity.createApiKey(tenant.id, { role: 'security_engineer', name: 'demo-engineer', tier: 'professional' })
  const { token } = await platform.tokens.issue({ sub: 'demo-admin', tenantId: tenant.id, role: 'admin', ttlSeconds: 86_400 })

  // Seed through the public API so the demo exercises the same path as a client.
  const base = `${url}/api/v1/integrations/spectrastrike`
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const seed = JSON.parse(readFileSync(new URL('../demo/seed.json', import.meta.url), 'utf8')) as { events: unknown[]; findings: unknown[] }
  await fetch(`${base}/events/batch`, { method: 'POST', headers, body: JSON.stringify(seed.events) })
  await fetch(`${base}/findings/batch`, { method: 'POST', headers, body: JSON.stringify(seed.findings) })
  // A scanner import through the upload API; it is exported to the fake Phoenix as well.
  const form = new FormData()
  form.append('file', new Blob([readFileSync(new URL('../demo/scans/trivy-demo.json', import.meta.url))]), 'trivy-demo.json')
  form.append('assessment_name', 'Demo container scan')
  const upload = await fetch(`${url}/api/v1/upload`, { method: 'POST', headers: { 'x-api-key': adminKey.key }, body: form })
  const { job_id: scanJob } = await upload.json() as { job_id: string }

  process.stderr.write([
    '',
    `VeriVault demo running at ${url}   (data in ${config.DATA_DIR}, discarded when you delete it)`,
    `  API docs:         ${url}/docs   (ReDoc: ${url}/redoc)`,
    '  tenant:           demo',
    `  admin user:       admin@demo.local / ${adminPassword}`,
    `  analyst user:     analyst@demo.local / ${analystPassword}`,
    `  admin API key:    ${adminKey.key}`,
    `  engineer API key: ${engineerKey.key}   (security_engineer, professional tier)`,
    `  admin token:      ${token}`,
    '',
    'Try:',
    `  curl -s -H "X-API-Key: ${adminKey.key}" ${url}/api/v1/findings | jq`,
    `  curl -s -H "X-API-Key: ${adminKey.key}" ${url}/api/v1/events | jq`,
    `  curl -s -H "X-API-Key: ${adminKey.key}" ${url}/api/v1/jobs/${scanJob} | jq      # the seeded scanner import`,
    `  curl -s -H "X-API-Key: ${adminKey.key}" -F file=@report.json ${url}/api/v1/upload   # import your own scanner file`,
    '',
    'Third-party fakes:',
    `  Phoenix Security API: ${phoenix.url} (client demo-client; every import is exported to it)`,
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'))
}
