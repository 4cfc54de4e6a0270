import { collectDefaultMetrics, Counter, Histogram, Registry, type CounterConfiguration, type HistogramConfiguration } from 'prom-client'

/** One Prometheus registry per app instance (tests build many apps in one process). */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const httpRequests = new Counter({
    name: 'http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'] as const, registers: [registry],
  })
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  })
  const authFailed = new Counter({
    name: 'auth_failed', help: 'Requests rejected by authentication, permission or request-signature checks', labelNames: ['endpoint', 'reason'] as const, registers: [registry],
  })
  return {
    registry,
    httpRequests,
    httpDuration,
    authFailed,
    /** A counter, created once per registry; later calls with the same name return the first. */
    counter<L extends string>(cfg: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
      return (registry.getSingleMetric(cfg.name) as Counter<L> | undefined) ?? new Counter({ ...cfg, registers: [registry] })
    },
    histogram<L extends string>(cfg: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
      return (registry.getSingleMetric(cfg.name) as Histogram<L> | undefined) ?? new Histogram({ ...cfg, registers: [registry] })
    },
  }
}
export type Metrics = ReturnType<typeof createMetrics>
