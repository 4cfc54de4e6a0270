import type { Principal } from '../auth/authenticator.js'
import type { Permission } from '../auth/permissions.js'
import type { Platform } from '../platform.js'

/** How a route authenticates: the permission it needs, or `false` for a public route. */
export type RouteAuth = { permission: Permission } | false

declare module 'fastify' {
  interface FastifyContextConfig {
    /** API family whose error body shape this route uses (default: platform). */
    family?: string
    /** Authentication and permission; routes without it are public. */
    auth?: RouteAuth
    /** Routes that take part in the shared client rate limit (`client_rate_limit`). */
    clientRateLimit?: boolean
  }
  interface FastifyRequest {
    principal?: Principal
    /** Outcome logged for this request when it differs from what the status code says (e.g. `partial`). */
    outcome?: string
  }
  interface FastifyInstance {
    platform: Platform
    /** Every route with its auth requirement, for shared route tests and docs. */
    routeCatalog: RouteCatalogEntry[]
  }
}

export interface RouteCatalogEntry {
  method: string
  url: string
  auth: RouteAuth | undefined
  family: string
  bodyRequired: boolean
}
