/**
 * Tenable / Nessus: `.nessus` XML (NessusClientData_v2) and the CSV exports of Nessus, Tenable.sc, Tenable.io
 * (`asset.*` / `definition.*` columns, often `;`-separated) and Nessus WAS. DefectDojo's "Tenable Scan":
 * - XML: one finding per plugin name + severity (severity from `cvss3_base_score` when given, else the item's
 *   0–4), repeats merged. DefectDojo merges across hosts too; a Phoenix finding belongs to one asset, so we merge
 *   per host (same plugin on several ports of one host → one finding with occurrences).
 * - CSV: one finding per severity + title + host + port + synopsis (rows without a title are skipped), severity
 *   from Risk / severity / Severity (0–4 or a word; anything else → Info), CVEs and CPE component from the row.
 */
import type { ParsedFinding, ParseContext, ParseResult, ScanDocument, ScannerParser, Severity, XmlNode } from './types.js'
import {
  AssetCollector, attr, child, childText, children, hostOf, isIp, isObject, num, originOf, parseCwe, ScanFormatError, str,
} from './util.js'
import {
  addIds, appendDescription, csvHeader, cveList, cvssOf, first, infraAttributes, pick, portOf, urlList,
} from './vm-common.js'

const WHERE = 'Tenable report'
const LEVELS: Severity[] = ['info', 'low', 'medium', 'high', 'critical']
const WORDS: Record<string, Severity> = { info: 'info', low: 'low', medium: 'medium', high: 'high', critical: 'critical' }
const KNOWN_SCHEMES = new Set(['http', 'https', 'ftp', 'ssh', 'telnet', 'smtp', 'dns', 'ldap', 'ldaps', 'imap', 'imaps', 'pop', 'pop3', 'pop3s', 'smb', 'snmp', 'rdp', 'vnc', 'sftp', 'ftps', 'nntp', 'rtsp', 'sip', 'xmpp', 'mysql', 'postgres', 'redis', 'git', 'svn', 'ws', 'wss', 'tcp', 'udp', 'icmp'])

/** DefectDojo's CVSS → severity for `cvss3_base_score` (note: 4.0–4.9 is Low there). */
function severityFromNessusCvss(score: number): Severity {
  if (score >= 9) return 'critical'
  if (score >= 7) return 'high'
  if (score >= 5) return 'medium'
  if (score > 0) return 'low'
  return 'info'
}

/** cpe:/a:vendor:product:version → component. */
function componentOfCpe(text: string | undefined): ParsedFinding['component'] | undefined {
  if (!text) return undefined
  const m = /cpe:\/[aho]?:[^\s:]*:([^\s:]+)(?::([^\s:]+))?/i.exec(text)
  if (!m?.[1]) return undefined
  return { name: decodeURIComponent(m[1]), ...(m[2] ? { version: decodeURIComponent(m[2]) } : {}) }
}

function detect(doc: ScanDocument): number {
  if (doc.kind === 'xml') {
    if (doc.xmlRoot === 'NessusClientData_v2') return 1
    if (doc.xmlRoot === 'NessusClientData') return 0.6
    return 0
  }
  if (doc.kind !== 'csv') return 0
  const h = csvHeader(doc)
  if (h.has('Plugin ID') && (h.has('Name') || h.has('Plugin Name'))) return 1
  if (h.has('Plugin') && h.has('Plugin Name')) return 1
  if (h.has('definition.id') && (h.has('asset.host_name') || h.has('asset.name'))) return 1
  if (h.has('Name') && h.has('Risk') && h.has('Host') && h.has('Synopsis')) return 0.8
  return 0
}

// ─── XML ────────────────────────────────────────────────────────────────────────────────────────────────────────

function texts(node: XmlNode, name: string): string[] {
  return children(node, name).map((c) => str(c)).filter((s): s is string => s !== undefined)
}

function parseXml(doc: ScanDocument): ParseResult {
  if (doc.xmlRoot !== 'NessusClientData_v2') {
    throw new ScanFormatError(`${WHERE}: this version of the Nessus report (<${doc.xmlRoot}>) is not supported; export it as .nessus (NessusClientData_v2)`)
  }
  const root = doc.xml?.NessusClientData_v2
  if (root !== undefined && root !== '' && !isObject(root)) throw new ScanFormatError(`${WHERE}: <NessusClientData_v2> has no elements`)
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()

  for (const report of children(root, 'Report')) {
    for (const host of children(report, 'ReportHost')) {
      const name = attr(host, 'name')
      const props = new Map<string, string>()
      for (const tag of children(child(host, 'HostProperties'), 'tag')) {
        const k = attr(tag, 'name')
        const v = str(tag)
        if (k && v !== undefined) props.set(k, v)
      }
      const fqdn = props.get('host-fqdn')
      let assetKey: string
      if ((fqdn && fqdn.includes('://')) || name?.includes('://')) {
        const url = fqdn?.includes('://') ? fqdn : name!
        assetKey = assets.add('WEB', { url: originOf(url) ?? url, fqdn: hostOf(url), ip: props.get('host-ip') })
      } else {
        if (!name && !fqdn && !props.get('host-ip')) throw new ScanFormatError(`${WHERE}: a <ReportHost> has no name, host-ip or host-fqdn`)
        assetKey = assets.add('INFRA', infraAttributes({
          host: name,
          ip: props.get('host-ip') ?? (isIp(name) ? name : undefined),
          name: fqdn ?? props.get('hostname') ?? (name && !isIp(name) ? name : undefined),
          netbios: props.get('netbios-name'),
          os: props.get('operating-system') ?? props.get('os'),
          mac: props.get('mac-address')?.split(/\s+/)[0],
        }))
      }
      const hostLabel = fqdn ?? name ?? props.get('host-ip') ?? ''

      for (const item of children(host, 'ReportItem')) {
        const title = attr(item, 'pluginName') ?? childText(item, 'plugin_name') ?? (attr(item, 'pluginID') ? `Nessus plugin ${attr(item, 'pluginID')}` : undefined)
        if (!title) throw new ScanFormatError(`${WHERE}: a <ReportItem> of host ${hostLabel} has neither pluginName nor pluginID`)
        const portNum = num(attr(item, 'port'))
        const port = portNum !== undefined && portNum > 0 ? portNum : undefined
        let protocol = attr(item, 'svc_name')?.replace(/[^A-Za-z0-9+-]+/g, '')
        if (protocol === 'www') protocol = 'http'
        if (protocol && !KNOWN_SCHEMES.has(protocol.toLowerCase())) protocol = attr(item, 'protocol')?.replace(/[^A-Za-z0-9+-]+/g, '') ?? protocol
        protocol = protocol?.toLowerCase()

        const level = num(attr(item, 'severity')) ?? 0
        let severity: Severity = LEVELS[level] ?? 'info'
        const cvss3Base = num(childText(item, 'cvss3_base_score'))
        if (cvss3Base !== undefined) severity = severityFromNessusCvss(cvss3Base)

        const output = childText(item, 'plugin_output')
        const outputBlock = output ? `Plugin Output: ${hostLabel}${port ? `:${port}` : ''}\n${output}` : undefined
        const key = `${assetKey}\u0000${severity}\u0000${title}`
        const prev = byKey.get(key)
        const cves = texts(item, 'cve').map((c) => c.toUpperCase())
        if (prev) {
          prev.occurrences = (prev.occurrences ?? 1) + 1
          appendDescription(prev, outputBlock)
          addIds(prev, cves)
          const ports = prev.extra?.ports as number[] | undefined
          if (ports && port !== undefined && !ports.includes(port) && ports.length < 50) ports.push(port)
          continue
        }

        const xrefs = texts(item, 'xref')
        const cwe = parseCwe([...texts(item, 'cwe'), ...xrefs.filter((x) => /^CWE:/i.test(x)).map((x) => x.replace(/^CWE:/i, 'CWE-'))])
        const references = [...new Set(texts(item, 'see_also').flatMap((s) => urlList(s)))]
        const epss = num(childText(item, 'epss_score'))
        const solution = childText(item, 'solution')
        const riskFactor = childText(item, 'risk_factor')
        const vector3 = childText(item, 'cvss3_vector')
        const score3 = cvss3Base ?? num(childText(item, 'cvssv3'))
        const finding: ParsedFinding = {
          assetKey,
          title,
          severity,
          scannerSeverity: riskFactor ?? attr(item, 'severity') ?? String(level),
          occurrences: 1,
        }
        appendDescription(finding, childText(item, 'synopsis'))
        appendDescription(finding, childText(item, 'description'))
        appendDescription(finding, outputBlock)
        if (solution && solution.toLowerCase() !== 'n/a') finding.remedy = solution
        if (cves.length) addIds(finding, cves)
        if (cwe.length) finding.cwe = cwe
        const cvss = cvssOf({ vector: vector3, score: score3 }, { vector: childText(item, 'cvss_vector'), score: num(childText(item, 'cvss_base_score')) ?? num(childText(item, 'cvss')) })
        if (cvss) finding.cvss = cvss
        if (epss !== undefined && epss >= 0 && epss <= 1) finding.epss = { score: epss }
        const component = componentOfCpe(childText(item, 'cpe'))
        if (component) finding.component = component
        if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }
        const pluginId = attr(item, 'pluginID')
        if (pluginId) finding.ruleId = pluginId
        if (references.length) finding.references = references
        const family = attr(item, 'pluginFamily')
        if (family) finding.tags = [family]
        finding.extra = {
          ...(family ? { pluginFamily: family } : {}),
          ...(childText(item, 'plugin_type') ? { pluginType: childText(item, 'plugin_type') } : {}),
          ...(num(childText(item, 'vpr_score')) !== undefined ? { vpr: num(childText(item, 'vpr_score')) } : {}),
          ...(childText(item, 'exploit_available') ? { exploitAvailable: childText(item, 'exploit_available') === 'true' } : {}),
          ...(xrefs.length ? { xref: xrefs.slice(0, 20) } : {}),
          ports: port !== undefined ? [port] : [],
        }
        byKey.set(key, finding)
      }
    }
  }
  return { assets: assets.list(), findings: [...byKey.values()] }
}

// ─── CSV ────────────────────────────────────────────────────────────────────────────────────────────────────────

function csvSeverity(raw: string): Severity {
  const s = raw.trim()
  if (/^-?\d+$/.test(s)) return LEVELS[Number(s)] ?? 'info'
  return WORDS[s.toLowerCase()] ?? 'info'
}

function statusOf(state: string | undefined, risk: string | undefined): Pick<ParsedFinding, 'status' | 'statusReason'> {
  const r = risk?.toUpperCase()
  if (r === 'ACCEPTED') return { status: 'risk_accepted', statusReason: 'Risk accepted in Tenable' }
  if (r === 'FALSE_POSITIVE' || r === 'FALSE POSITIVE') return { status: 'false_positive', statusReason: 'Marked as a false positive in Tenable' }
  const s = state?.toUpperCase()
  if (s === 'FIXED') return { status: 'mitigated', statusReason: 'Tenable reports the vulnerability as fixed' }
  return {}
}

const TAG_PAIR = /"category"\s*:\s*"([^"]*)"\s*,\s*"value"\s*:\s*"([^"]*)"/g

/**
 * Tenable.io `asset.tags`: a JSON list of {category, value}. Exports cut or mis-quote it, so the pairs are read with
 * a pattern rather than JSON.parse.
 */
function assetTags(cell: string | undefined, cache: Map<string, string[]>): string[] {
  if (!cell || !cell.startsWith('[')) return []
  let tags = cache.get(cell)
  if (tags) return tags
  tags = []
  for (const m of cell.matchAll(TAG_PAIR)) {
    const value = m[2]!.replace(/\+/g, ' ')
    let decoded = value
    try { decoded = decodeURIComponent(value) } catch { /* keep as written */ }
    const tag = m[1] ? `${m[1]}:${decoded}` : decoded
    if (decoded && !tags.includes(tag)) tags.push(tag)
  }
  cache.set(cell, tags)
  return tags
}

function parseCsvReport(doc: ScanDocument, ctx: ParseContext): ParseResult {
  const table = doc.csv
  if (!table) throw new ScanFormatError(`${WHERE}: expected a CSV document`)
  const h = new Set(table.header)
  if (!h.has('Name') && !h.has('Plugin Name') && !h.has('asset.name') && !h.has('definition.name')) {
    throw new ScanFormatError(`${WHERE}: invalid CSV, missing a 'Name', 'Plugin Name' or 'asset.name' column`)
  }
  const assets = new AssetCollector()
  const byKey = new Map<string, ParsedFinding>()
  const tagCache = new Map<string, string[]>()
  let epssRepaired = 0

  for (const row of table.rows) {
    // DefectDojo takes `Name`, then `Plugin Name`, then (Tenable.io) `asset.name` — the latter is the host's name,
    // so the plugin's `definition.name` is preferred when the export has it.
    const title = str(pick(row, 'Name', 'Plugin Name', 'definition.name', 'asset.name'))
    if (!title) continue
    let raw = pick(row, 'Risk', 'severity') ?? ''
    if (raw.trim() === '') raw = pick(row, 'Severity') ?? 'Info'
    const severity = csvSeverity(raw)
    const synopsis = pick(row, 'Synopsis', 'definition.synopsis')

    const hostCell = str(pick(row, 'Host', 'asset.host_name')) ?? first(row, 'DNS Name') ?? first(row, 'IP Address')
    let assetKey: string
    if (hostCell?.includes('://')) {
      assetKey = assets.add('WEB', { url: originOf(hostCell) ?? hostCell, fqdn: hostOf(hostCell) })
    } else {
      const attrs = infraAttributes({
        host: hostCell,
        ip: first(row, 'IP Address', 'IP', 'asset.display_ipv4_address') ?? (isIp(hostCell) ? hostCell : undefined),
        name: (hostCell && !isIp(hostCell) ? hostCell : undefined) ?? first(row, 'DNS Name', 'FQDN', 'asset.display_fqdn'),
        netbios: first(row, 'NetBIOS Name', 'NetBios', 'asset.netbios_name'),
        os: first(row, 'OS', 'asset.operating_system'),
        mac: first(row, 'MAC Address', 'asset.display_mac_address'),
      })
      if (!attrs.ip && !attrs.hostname) {
        ctx.warn(`${WHERE}: a row of "${title}" names no host; it is filed under the report's file name`)
        attrs.hostname = doc.filename || 'localhost'
      }
      assetKey = assets.add('INFRA', attrs, assetTags(first(row, 'asset.tags'), tagCache))
    }

    const portCell = pick(row, 'Port', 'asset.port', 'port')
    const port = portOf(portCell)
    const key = `${severity}\u0000${title}\u0000${assetKey}\u0000${portCell ?? ''}\u0000${synopsis ?? ''}`
    const output = str(pick(row, 'Plugin Output', 'output', 'Plugin Text'))
    const cves = cveList(pick(row, 'CVE', 'definition.cve'))
    const prev = byKey.get(key)
    if (prev) {
      prev.occurrences = (prev.occurrences ?? 1) + 1
      appendDescription(prev, output)
      addIds(prev, cves)
      continue
    }

    const finding: ParsedFinding = { assetKey, title, severity, scannerSeverity: raw.trim() || 'Info', occurrences: 1 }
    appendDescription(finding, str(synopsis))
    appendDescription(finding, str(pick(row, 'Description', 'definition.description')))
    appendDescription(finding, output)
    const solution = str(pick(row, 'Solution', 'definition.solution', 'Steps to Remediate'))
    if (solution && solution.toLowerCase() !== 'n/a') finding.remedy = solution
    if (cves.length) addIds(finding, cves)
    const cwe = parseCwe(first(row, 'CWE', 'definition.cwe')?.split(/[,;\s]+/))
    if (cwe.length) finding.cwe = cwe

    const cvss = cvssOf(
      {
        vector: first(row, 'CVSS V3 Vector', 'CVSS3 Vector', 'definition.cvss3.base_vector'),
        score: num(first(row, 'CVSSv3', 'definition.cvss3.base_score', 'CVSS V3 Base Score', 'CVSS v3.0 Base Score', 'CVSS3 Base Score')),
      },
      {
        vector: first(row, 'CVSS V2 Vector', 'CVSS Vector', 'definition.cvss2.base_vector'),
        score: num(first(row, 'CVSS', 'CVSS V2 Base Score', 'CVSS v2.0 Base Score', 'CVSS Base Score', 'definition.cvss2.base_score')),
      },
    )
    if (cvss) finding.cvss = cvss

    // Nessus' CSV report template writes EPSS without "0." ("3833" for 0.3833); DefectDojo restores the prefix.
    const epssCell = first(row, 'EPSS Score', 'definition.epss.score')
    if (epssCell) {
      let epss = num(epssCell)
      if (epss !== undefined && epss > 1 && /^\d+$/.test(epssCell)) {
        if (ctx.fixData) {
          epss = Number(`0.${epssCell}`)
          epssRepaired++
        } else epss = undefined
      }
      if (epss !== undefined && epss >= 0 && epss <= 1) finding.epss = { score: epss }
    }

    const component = componentOfCpe(first(row, 'CPE', 'definition.cpe'))
    if (component) finding.component = component
    const protocol = first(row, 'Protocol', 'protocol')?.toLowerCase()
    if (port !== undefined || protocol) finding.location = { ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}) }
    const pluginId = first(row, 'Plugin ID', 'Plugin', 'definition.id')
    if (pluginId) finding.ruleId = pluginId
    const references = urlList(pick(row, 'See Also', 'definition.see_also'))
    if (references.length) finding.references = references
    Object.assign(finding, statusOf(first(row, 'Vulnerability State', 'state'), first(row, 'risk_modified')))
    const family = first(row, 'Family', 'Plugin Family', 'definition.family')
    if (family) finding.tags = [family]
    const vpr = num(first(row, 'VPR Score', 'Vulnerability Priority Rating', 'Vulnerability Priority Rating (VPR)', 'VPR', 'definition.vpr.score'))
    finding.extra = {
      ...(family ? { pluginFamily: family } : {}),
      ...(vpr !== undefined ? { vpr } : {}),
      ...(first(row, 'Exploit?') ? { exploitAvailable: first(row, 'Exploit?')!.toLowerCase() === 'yes' } : {}),
    }
    byKey.set(key, finding)
  }
  if (epssRepaired) ctx.repair(`${WHERE}: ${epssRepaired} EPSS score(s) written without the leading "0." were read as 0.<digits>, as DefectDojo does`)
  return { assets: assets.list(), findings: [...byKey.values()] }
}

export const parser: ScannerParser = {
  id: 'tenable',
  label: 'Tenable / Nessus',
  aliases: ['Tenable Scan', 'nessus', 'nessus_was', 'tenable.io', 'tenable.sc'],
  formats: ['xml', 'csv'],
  defaultAssetType: 'INFRA',
  detect,
  parse(doc, ctx) {
    if (doc.kind === 'xml') return parseXml(doc)
    if (doc.kind === 'csv') return parseCsvReport(doc, ctx)
    throw new ScanFormatError(`${WHERE}: expected a .nessus XML or a CSV export, got ${doc.kind.toUpperCase()}`)
  },
}
