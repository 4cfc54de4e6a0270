export * from './errors.js'
export { createHttpClient, redactHeaders } from './http-client.js'
export type {
  HttpClient, HttpClientLogger, HttpClientOptions, HttpRequestOptions, HttpResponse, JsonRequestOptions, QueryValue, RequestBody,
} from './http-client.js'
export { classifyAddress, createSsrfGuard, systemResolver } from './ssrf-guard.js'
export type { AddressVerdict, Resolver, SsrfGuard, SsrfGuardOptions } from './ssrf-guard.js'
