import type { Platform } from './platform.js'
import { generatePassword } from './auth/passwords.js'

export interface BootstrapResult {
  created: boolean
  tenantSlug?: string
  email?: string
  /** Set only when the password was generated (shown once). */
  generatedPassword?: string
}

/**
 * First start on an empty database: tenant `default` and an admin user. The password comes from
 * VV_BOOTSTRAP_ADMIN_PASSWORD or is generated and returned once for the caller to print.
 */
export async function bootstrapFirstRun(platform: Platform): Promise<BootstrapResult> {
  if ((await platform.identity.countTenants()) > 0) return { created: false }
  const { config } = platform
  const tenant = await platform.identity.createTenant('default', 'Default').catch(async (err: unknown) => {
    // Another process bootstrapped at the same moment.
    if (await platform.identity.findTenant('default')) return undefined
    throw err
  })
  if (!tenant) return { created: false }
  const password = config.BOOTSTRAP_ADMIN_PASSWORD ?? generatePassword()
  await platform.identity.createUser(tenant.id, config.BOOTSTRAP_ADMIN_EMAIL, 'admin', password)
  await platform.audit.record({ tenantId: tenant.id, action: 'tenant.bootstrapped', outcome: 'success', actorType: 'system', details: { admin_email: config.BOOTSTRAP_ADMIN_EMAIL } })
  return {
    created: true, tenantSlug: tenant.slug, email: config.BOOTSTRAP_ADMIN_EMAIL,
    ...(config.BOOTSTRAP_ADMIN_PASSWORD ? {} : { generatedPassword: password }),
  }
}
