import type { FastifyInstance } from 'fastify'
import type { ErrorRenderer } from '../platform/http/families.js'
import type { Platform } from '../platform/platform.js'

/** A feature module: its API families' error renderers and its routes. */
export interface Module {
  name: string
  /** Error body renderers of the API families this module owns, by family name. */
  errorFamilies?(platform: Platform): Record<string, ErrorRenderer>
  register(app: FastifyInstance): Promise<void>
}
