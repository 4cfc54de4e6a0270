import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { MAX_JSON_DEPTH } from '../validation.js'

const require = createRequire(import.meta.url)

export const OPENAPI_TAGS = [
  { name: 'SpectraStrike ingest', description: 'Telemetry events and findings from the SpectraStrike attack-simulation platform (`/api/v1/integrations/spectrastrike/*`).' },
  { name: 'Findings', description: 'The shared findings store, events and assets, fed by every module.' },
  { name: 'Identity', description: 'Tokens, API keys and users of the caller\'s tenant.' },
  { name: 'Audit', description: 'The tenant\'s hash-chained audit trail.' },
  { name: 'System', description: 'Liveness, readiness and metrics.' },
]

/**
 * OpenAPI 3 generated from the routes' TypeBox schemas at /openapi.json, Swagger UI at /docs and ReDoc at
 * /redoc. Each route's `security` comes from its declared auth, so the document cannot drift from the code.
 */
export async function registerDocs(app: FastifyInstance, serveUi: boolean) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'VeriVault API',
        version: '0.1.0',
        description: 'Self-hosted, multi-tenant security integration hub. Every authenticated route accepts a Bearer JWT '
          + '(`verivault token`, `POST /api/v1/auth/token`) or an API key (`X-API-Key`, `verivault keys create`).\n\n'
          + `JSON bodies: at most VV_MAX_BODY_MB (413 beyond) and at most ${MAX_JSON_DEPTH} levels of nested objects and arrays `
          + '(refused as malformed JSON beyond). Text is stored without U+0000 and unpaired surrogates, which PostgreSQL '
          + 'cannot hold: each is stored as U+FFFD, so one such character never fails a request.',
      },
      tags: OPENAPI_TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'JWT with tenant_id (or org/org_id) and role claims.' },
          apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key bound to a tenant and role.' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const auth = route.config?.auth
      const transformed = { ...(schema as Record<string, unknown>) }
      if (auth) {
        transformed.security = [{ bearerAuth: [] }, { apiKeyAuth: [] }]
        const desc = typeof transformed.description === 'string' ? `${transformed.description}\n\n` : ''
        transformed.description = `${desc}Requires permission \`${auth.permission}\`.`
      }
      return { schema: transformed as typeof schema, url }
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  if (!serveUi) return
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { url: '/openapi.json', deepLinking: true } })

  const redocJs = readFileSync(require.resolve('redoc/bundles/redoc.standalone.js'))
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>VeriVault API — ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="/redoc/redoc.standalone.js"></script></body></html>`
  const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; font-src 'self' data:"
  app.get('/redoc', { schema: { hide: true } }, async (_req, reply) => reply.header('content-security-policy', csp).type('text/html').send(page))
  app.get('/redoc/redoc.standalone.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=86400').type('application/javascript').send(redocJs))
}
