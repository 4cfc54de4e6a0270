/**
 * One table maps roles to permissions; routes declare the permission they need. The integration permissions
 * follow the integration engine's role matrix (specs/integration-engine.md).
 */
export const ROLES = [
  'admin', 'ciso', 'compliance_manager', 'security_engineer', 'it_admin', 'devops_engineer', 'auditor', 'vendor_manager', 'analyst',
] as const
export type Role = (typeof ROLES)[number]

export const PERMISSIONS = [
  'ingest:write', 'ingest:read',
  'findings:read', 'findings:write',
  'events:read',
  'audit:read',
  'jobs:read', 'jobs:manage',
  'scans:write', 'scans:read',
  'intel:read',
  'prompts:analyze', 'prompts:read', 'prompts:manage',
  'integrations:read', 'integrations:manage', 'integrations:operate',
  'keys:manage', 'users:manage', 'tenant:manage',
] as const
export type Permission = (typeof PERMISSIONS)[number]

const READ_ALL: Permission[] = ['ingest:read', 'findings:read', 'events:read', 'jobs:read', 'scans:read', 'intel:read', 'prompts:read']
const INTEGRATIONS_ALL: Permission[] = ['integrations:read', 'integrations:manage', 'integrations:operate']
const ENGINEERING: Permission[] = [
  ...READ_ALL, 'ingest:write', 'findings:write', 'jobs:manage', 'scans:write', 'prompts:analyze', ...INTEGRATIONS_ALL,
]

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(PERMISSIONS),
  ciso: new Set<Permission>([...ENGINEERING, 'audit:read', 'prompts:manage']),
  security_engineer: new Set<Permission>([...ENGINEERING, 'prompts:manage']),
  it_admin: new Set<Permission>([...ENGINEERING]),
  devops_engineer: new Set<Permission>([...ENGINEERING]),
  compliance_manager: new Set<Permission>([...READ_ALL, 'audit:read', 'integrations:read']),
  auditor: new Set<Permission>(['findings:read', 'events:read', 'audit:read', 'ingest:read', 'scans:read', 'prompts:read']),
  vendor_manager: new Set<Permission>(['findings:read']),
  analyst: new Set<Permission>([...READ_ALL, 'ingest:write', 'findings:write', 'prompts:analyze']),
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission)
}

export const TIERS = ['community', 'professional', 'enterprise'] as const
export type Tier = (typeof TIERS)[number]
export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value)
}
