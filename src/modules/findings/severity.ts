/** The one severity scale of the findings store, lowest first. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 }

const ALIASES: Record<string, Severity> = {
  info: 'info', informational: 'info', information: 'info', none: 'info',
  low: 'low',
  medium: 'medium', med: 'medium', moderate: 'medium',
  high: 'high',
  critical: 'critical', crit: 'critical',
}

/** Maps a severity word (any case, common aliases) onto the scale; undefined when it is not one. */
export function normalizeSeverity(value: string): Severity | undefined {
  return ALIASES[value.trim().toLowerCase()]
}
