import type { Module } from '../module.js'
import { findingsRepository } from './findings.repository.js'
import { findingsRoutes } from './findings.routes.js'

/** The shared findings store's read API. */
export const findingsModule: Module = {
  name: 'findings',
  async register(app) {
    await app.register(findingsRoutes, { repository: findingsRepository(app.platform.db) })
  },
}
