import { randomBytes } from 'node:crypto'
import { openDatabase, type DatabaseHandle } from '../../src/platform/db/database.js'
import { migrate } from '../../src/platform/db/migrate.js'

let shared: Promise<DatabaseHandle> | undefined

/**
 * The worker's database: in-memory PGlite by default, or a fresh schema on VV_TEST_DATABASE_URL (CI runs the
 * suite both ways). Migrated once; tests isolate by creating their own tenants.
 */
export function testDatabase(): Promise<DatabaseHandle> {
  shared ??= (async () => {
    const url = process.env.VV_TEST_DATABASE_URL
    const schema = url ? `vv_test_${process.pid}_${randomBytes(3).toString('hex')}` : undefined
    const handle = await openDatabase({ url, dataDir: 'memory', schema, poolSize: 8 })
    await migrate(handle)
    return handle
  })()
  return shared
}

export const usingPostgresServer = () => Boolean(process.env.VV_TEST_DATABASE_URL)
