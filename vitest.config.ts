import { defineConfig } from 'vitest/config'

// One PGlite (or one Postgres schema) per worker, shared by the test files that worker runs: isolate=false
// keeps the module (and so the database) alive across files; tests isolate by creating their own tenants.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
