/** What the Trivy and trivy-operator parsers share: Trivy's severity words, references, ARN parsing. */
import type { AssetAttributes, Severity } from './types.js'
import { str } from './util.js'

/** Trivy's severity words (DefectDojo's TRIVY_SEVERITIES): UNKNOWN → info; anything else is not a Trivy severity. */
const TRIVY_SEVERITIES: Record<string, Severity> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
  UNKNOWN: 'info',
}

/** Trivy's severity word → ours, or undefined when it is missing or not one of Trivy's five. */
export function trivySeverity(value: unknown): Severity | undefined {
  const s = str(value)
  return s === undefined ? undefined : TRIVY_SEVERITIES[s.toUpperCase()]
}

/** Deduplicated, non-empty URLs; `first` (a primary link) leads. */
export function referenceList(first: unknown, rest: unknown): string[] {
  const out: string[] = []
  const add = (v: unknown) => {
    const s = str(v)
    // Reference lists are short: a linear scan beats allocating a Set per vulnerability.
    if (s && !out.includes(s)) out.push(s)
  }
  add(first)
  if (Array.isArray(rest)) for (const v of rest) add(v)
  else add(rest)
  return out
}

/** CLOUD attributes from an AWS ARN (`arn:aws:eks:us-east-1:123456789012:cluster/name`), or undefined. */
export function arnAttributes(arn: string | undefined): AssetAttributes | undefined {
  if (!arn?.startsWith('arn:')) return undefined
  const parts = arn.split(':')
  if (parts.length < 6) return undefined
  const partition = parts[1] ?? ''
  const provider = partition.startsWith('aws') ? 'aws' : partition
  const region = parts[3] || undefined
  const account = parts[4] || undefined
  if (!account) return undefined
  return { provider, account, ...(region ? { region } : {}), resource: arn }
}

