// The fake Phoenix Security API lives in src/fakes so that `verivault demo` can start it; tests use the same one.
export { startFakePhoenix, type FakePhoenix, type PhoenixImport } from '../../src/fakes/phoenix.js'
