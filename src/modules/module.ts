import type { FastifyInstance } from 'fastify'
import type { ErrorRenderer } from '../platform/http/families.js'
import type { JobDefinition } from '../platform/jobs/index.js'
import type { Platform } from '../platform/platform.js'

/** A feature module: its API families' error renderers and its routes. */
export interface Module {
  name: string
  /** Error body renderers of the API families this module owns, by family name. */
  errorFamilies?(platform: Platform): Record<string, ErrorRenderer>
  /** Job definitions this module runs in the background (registered in every process, API and worker alike). */
  jobs?(platform: Platform): JobDefinition[]
  register(app: FastifyInstance): Promise<void>
  /** Periodic housekeeping (retention), run by worker processes every few minutes; returns counts for the log. */
  maintenance?(platform: Platform): Promise<Record<string, number>>
}
