import { openDatabase } from '../src/platform/db/database.js'
import { migrate } from '../src/platform/db/migrate.js'
const h = await openDatabase({ url: process.argv[2] })
console.log(await migrate(h)); console.log(await migrate(h))
console.log(await h.db.selectFrom('tenants').selectAll().execute())
await h.close()
