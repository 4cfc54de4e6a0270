import { describe, expect, it } from 'vitest'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { parser as qualys } from '../../../src/modules/scans/parsers/qualys.js'
import { parser as qualysHackerGuardian } from '../../../src/modules/scans/parsers/qualys_hacker_guardian.js'
import { parser as qualysInfrascan } from '../../../src/modules/scans/parsers/qualys_infrascan_webgui.js'
import { parser as qualysVmdr } from '../../../src/modules/scans/parsers/qualys_vmdr.js'
import { parser as qualysWebapp } from '../../../src/modules/scans/parsers/qualys_webapp.js'
import { parser as tenable } from '../../../src/modules/scans/parsers/tenable.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import { splitCvssCell, v3Vector } from '../../../src/modules/scans/parsers/vm-common.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [tenable, qualys, qualysVmdr, qualysHackerGuardian, qualysInfrascan, qualysWebapp]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

const parseFile = (p: ScannerParser, file: string, fixData = true) => parseWith(p, corpusDocument(file), fixData)
const doc = (text: string, name: string) => loadDocument(name, text)
const rejects = (p: ScannerParser, text: string, name: string, message?: RegExp) => {
  const d = doc(text, name)
  expect(() => parseWith(p, d)).toThrow(ScanFormatError)
  if (message) expect(() => parseWith(p, d)).toThrow(message)
}

describe('tenable: .nessus XML', () => {
  it('nessus_many_vuln.xml: severities, protocols, INFRA asset with ip/fqdn/os', () => {
    const r = parseFile(tenable, 'tenable/nessus_many_vuln.xml')
    expect(r.findings).toHaveLength(6)
    expect(r.findings[0]!.title).toBe('Nessus Scan Information')
    expect(r.findings[5]!.severity).toBe('info')
    expect(r.findings[5]!.location?.protocol).toBe('https')
    expect(r.findings[5]!.cwe).toBeUndefined()
    expect(r.assets).toEqual([{
      key: r.findings[0]!.assetKey,
      type: 'INFRA',
      attributes: { ip: '12.233.108.201', hostname: 'preprod.boardvantage.net', os: 'CISCO PIX 7.0' },
    }])
  })

  it('nessus_with_cvssv3.nessus: CVSS v3 vector and severity, http protocol', () => {
    const r = parseFile(tenable, 'tenable/nessus_with_cvssv3.nessus')
    const f = r.findings[3]!
    expect(f.severity).toBe('medium')
    expect(f.cvss?.vector).toBe('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N')
    expect(f.cvss?.version).toBe('3.0')
    expect(f.cwe).toBeUndefined()
    expect(f.location?.protocol).toBe('http')
  })

  it('issue_6992.nessus: severity from cvss3_base_score', () => {
    const f = parseFile(tenable, 'tenable/issue_6992.nessus').findings[0]!
    expect(f.severity).toBe('high')
    expect(f.cvss?.score).toBe(7.5)
  })

  it('nessus_with_cwe-.nessus: CWE, CVEs, plugin id, references', () => {
    const f = parseFile(tenable, 'tenable/nessus_with_cwe-.nessus').findings[0]!
    expect(f.cwe?.[0]).toBe(94)
    expect(f.ruleId).toBe('31649')
    expect(f.vulnerabilityIds?.length).toBeGreaterThan(1)
    expect(f.vulnerabilityIds?.every((id) => id.startsWith('CVE-'))).toBe(true)
    expect(f.references?.length).toBeGreaterThan(0)
  })

  it('nessus_v_unknown.xml: merges per host (plugin + severity), not across hosts', () => {
    const r = parseFile(tenable, 'tenable/nessus_v_unknown.xml')
    expect(r.assets).toHaveLength(7)
    expect(r.findings[0]).toMatchObject({ title: 'Nessus Scan Information', severity: 'info' })
    const syn = r.findings.filter((f) => f.title === 'Nessus SYN scanner')
    expect(syn).toHaveLength(7)
    expect(syn.every((f) => f.severity === 'info')).toBe(true)
    // DefectDojo's 32 distinct plugin + severity findings, once per host where seen.
    expect(new Set(r.findings.map((f) => `${f.severity}|${f.title}`)).size).toBe(32)
    expect(syn.some((f) => (f.occurrences ?? 1) > 1)).toBe(true)
  })

  it('nessus_was_many_vuln.xml: WEB asset from the scanned URL; CWE from the CWE xref', () => {
    const r = parseFile(tenable, 'tenable/nessus_was_many_vuln.xml')
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Cross-Site Scripting (XSS)', severity: 'high' })
    expect(f.location?.protocol).toBe('http')
    // DefectDojo leaves cwe empty (its test notes 79 as the wanted value); the report's xref CWE:79 gives it.
    expect(f.cwe).toEqual([79])
    expect(r.assets[0]).toMatchObject({ type: 'WEB', attributes: { url: 'http://google.com', fqdn: 'google.com' } })
  })
})

describe('tenable: CSV', () => {
  it('nessus-template.csv: Risk severity, EPSS (repaired from "3833"), CVE', () => {
    const r = parseFile(tenable, 'tenable/nessus-template.csv')
    expect(r.findings[0]).toMatchObject({ title: 'SSL Medium Strength Cipher Suites Supported (SWEET32)', severity: 'high', vulnerabilityIds: ['CVE-2016-2183'] })
    expect(r.findings[0]!.epss).toEqual({ score: 0.3833 })
    expect(r.findings[0]!.cwe).toBeUndefined()
    expect(r.findings[1]).toMatchObject({ title: 'HTTP TRACE / TRACK Methods Allowed', severity: 'medium', vulnerabilityIds: ['CVE-2003-1567'] })
    expect(r.findings[1]!.epss?.score).toBe(0.8269)
    expect(r.repairs).toHaveLength(1)
    // Without fixData the digits are not guessed at.
    const raw = parseFile(tenable, 'tenable/nessus-template.csv', false)
    expect(raw.findings[0]!.epss).toBeUndefined()
    expect(raw.repairs).toEqual([])
  })

  it('nessus_many_vuln.csv: CVSS v3 vector, CPE component, CVE lists, asset', () => {
    const r = parseFile(tenable, 'tenable/nessus_many_vuln.csv')
    const f = r.findings[0]!
    expect(f.cvss?.vector).toBe('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C')
    expect(f.component?.name).toBe('md5')
    expect(f.vulnerabilityIds).toEqual(['CVE-2004-2761'])
    expect(r.findings[3]!.vulnerabilityIds).toEqual(['CVE-2013-2566', 'CVE-2015-2808'])
    const asset = r.assets.find((a) => a.key === f.assetKey)!
    expect(asset.type).toBe('INFRA')
    expect(asset.attributes.ip).toBe('10.1.1.1')
  })

  it('nessus_many_vuln2-default.csv: "None" risk → info, CVE of finding 25', () => {
    const r = parseFile(tenable, 'tenable/nessus_many_vuln2-default.csv')
    expect(r.findings[0]).toMatchObject({ title: 'HTTP Server Type and Version', severity: 'info' })
    expect(r.findings[0]!.vulnerabilityIds).toBeUndefined()
    expect(r.findings[25]).toMatchObject({ title: 'SSL Certificate Signed Using Weak Hashing Algorithm (Known CA)', severity: 'info', vulnerabilityIds: ['CVE-2004-2761'] })
  })

  it('nessus_new.csv (Tenable.io, ;-separated): plugin name as title, CVSS score, asset attributes and tags', () => {
    const r = parseFile(tenable, 'tenable/nessus_new.csv')
    const f = r.findings[0]!
    // DefectDojo titles these rows with `asset.name` (the host, "Blah1"); the plugin's definition.name is the title.
    expect(f.title).toBe('Network daemons not managed by the package system')
    expect(f.severity).toBe('low')
    expect(f.cvss?.score).toBe(3.1)
    expect(f.cvss?.vector).toBe('CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N')
    expect(f.ruleId).toBe('33851')
    const asset = r.assets.find((a) => a.key === f.assetKey)!
    expect(asset.attributes).toMatchObject({ ip: '10.0.0.1', hostname: 'Blah1', mac: '00:0d:3a:45:64:7f' })
    // The export's JSON is broken (a missing quote); the category/value pairs are still read.
    expect(asset.tags).toContain('Azure:Connector Scanned')
    expect(asset.tags).toContain('Azure_BU:Maps')
  })

  it('nessus_was_many_vuln.csv: CVSS v3 score, high risk, host google.com', () => {
    const r = parseFile(tenable, 'tenable/nessus_was_many_vuln.csv')
    expect(r.findings[0]).toMatchObject({ severity: 'high', cvss: { score: 7.1, version: '3.0' } })
    expect(r.findings[0]!.cwe).toBeUndefined()
    expect(r.findings[0]!.location?.protocol).toBe('http')
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'INFRA', attributes: { hostname: 'google.com' } }])
  })

  it('tenable_many_vuln.csv: references, fixed/active state', () => {
    const r = parseFile(tenable, 'tenable/tenable_many_vuln.csv')
    expect(r.findings).toHaveLength(9)
    const f = r.findings[0]!
    expect(f.title).toBe('Amazon Linux 2 : kernel (ALAS-2023-2050)')
    expect(f.location?.protocol).toBe('tcp')
    expect(f.location?.port).toBeUndefined()
    expect(f.references).toContain('https://alas.aws.amazon.com/AL2/ALAS-2023-2050.html')
    expect(f.vulnerabilityIds).toEqual(['CVE-2023-32233'])
    expect(r.assets.find((a) => a.key === f.assetKey)!.attributes.hostname).toBe('ip-127-0-0-1.us-west-2.compute.internal')
  })

  it('issue_11102.csv: "Steps to Remediate" as remedy', () => {
    const r = parseFile(tenable, 'tenable/issue_11102.csv')
    expect(r.findings[0]!.remedy).toBe('Reconfigure the affected application if possible to avoid use of medium strength ciphers.')
  })

  it('malformed input → ScanFormatError', () => {
    rejects(tenable, 'Plugin ID,Risk,Host\n1,High,h\n', 'x.csv', /'Name', 'Plugin Name'/)
    rejects(tenable, '<NessusClientData><Report/></NessusClientData>', 'x.nessus', /not supported/)
    rejects(tenable, '<NessusClientData_v2><Report><ReportHost><HostProperties/><ReportItem port="0" severity="1"/></ReportHost></Report></NessusClientData_v2>', 'x.nessus', /ReportHost/)
    rejects(tenable, '<NessusClientData_v2><Report><ReportHost name="h"><ReportItem port="0" severity="1"/></ReportHost></Report></NessusClientData_v2>', 'x.nessus', /pluginName/)
    rejects(tenable, '{"a":1}', 'x.json')
  })
})

describe('qualys', () => {
  it('Qualys_Sample_Report.xml: "QID-n | TITLE", level → severity, FQDN asset, CVEs', () => {
    const r = parseFile(qualys, 'qualys/Qualys_Sample_Report.xml')
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'QID-6 | DNS Host Name', severity: 'info', ruleId: '6', scannerSeverity: '1' })
    expect(r.assets[0]).toMatchObject({
      type: 'INFRA',
      attributes: { ip: '64.41.200.243', hostname: 'demo13.s02.sjc01.qualys.com', os: 'Ubuntu / Tiny Core Linux / Linux 2.6.x' },
      tags: ['App1_Asset_Group'],
    })
    const withCve = r.findings.find((x) => x.vulnerabilityIds?.length)!
    expect(withCve.vulnerabilityIds![0]).toMatch(/^CVE-\d{4}-\d+$/)
    expect(withCve.references?.length).toBeGreaterThan(0)
    expect(r.findings.some((x) => x.severity === 'medium' || x.severity === 'high')).toBe(true)
  })

  it('Qualys_Sample_Report.csv: title, severity 5 → critical, CVSS v3 base + temporal vector', () => {
    const r = parseFile(qualys, 'qualys/Qualys_Sample_Report.csv')
    const f = r.findings[0]!
    expect(f.title).toBe('QID-105971 | EOL/Obsolete Software: Microsoft ASP.NET 1.0 Detected')
    expect(f.severity).toBe('critical')
    expect(f.cvss).toEqual({ vector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:U/RC:C', score: 8.1, version: '3.0' })
    // One QID on four hosts → four findings (one per asset), not DefectDojo's single merged one.
    expect(r.findings.filter((x) => x.ruleId === '105971')).toHaveLength(4)
    expect(r.assets.find((a) => a.key === f.assetKey)!.attributes).toMatchObject({
      ip: '10.0.0.180', hostname: 'ip-10-0-0-180.eu-west-1.compute.internal', netbios: 'EC2AMAZ-EXAMPLE1',
    })
  })

  it('monthly_pci_issue6932.csv (PCI layout) is Qualys, not HackerGuardian', () => {
    const d = corpusDocument('qualys/monthly_pci_issue6932.csv')
    expect(detectAmong(PARSERS, d)).toBe('qualys')
    const f = parseWith(qualys, d).findings[0]!
    expect(f).toMatchObject({ title: 'QID-86476 | Web Server Stopped Responding', severity: 'medium', location: { port: 80, protocol: 'tcp' } })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(qualys, '<ASSET_DATA_REPORT><HOST_LIST><HOST><VULN_INFO_LIST><VULN_INFO><QID id="qid_6">6</QID></VULN_INFO></VULN_INFO_LIST></HOST></HOST_LIST></ASSET_DATA_REPORT>', 'q.xml', /neither <IP> nor <DNS>/)
    rejects(qualys, '<ASSET_DATA_REPORT><HOST_LIST><HOST><IP>1.2.3.4</IP><VULN_INFO_LIST><VULN_INFO><PORT>1</PORT></VULN_INFO></VULN_INFO_LIST></HOST></HOST_LIST></ASSET_DATA_REPORT>', 'q.xml', /no <QID>/)
    rejects(qualys, '<SCAN><IP value="1.2.3.4"/></SCAN>', 'q.xml', /ASSET_DATA_REPORT/)
    rejects(qualys, 'a,b\n1,2\n', 'q.csv', /QID/)
    rejects(qualys, '"IP","QID","Title","Severity"\n"","1","T","3"\n', 'q.csv', /names no host/)
  })
})

describe('qualys_vmdr', () => {
  it('one_vuln_qid.csv: title, severity, asset with tags, status, location', () => {
    const r = parseFile(qualysVmdr, 'qualys_vmdr/one_vuln_qid.csv')
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Microsoft Internet Explorer Security Update', severity: 'critical', scannerSeverity: '5', ruleId: '100269' })
    expect(f.remedy).toBe('Apply the security update from Microsoft.')
    expect(f.status).toBeUndefined()
    expect(f.location).toBeUndefined()
    expect(r.assets).toEqual([{
      key: f.assetKey, type: 'INFRA',
      attributes: { ip: '10.0.0.1', hostname: 'TESTSERVER01', os: 'Windows Server 2019' },
      tags: ['Server', 'Production'],
    }])
  })

  it('one_vuln_cve.csv: CVE id and NVD CVSS v3.1 score; no-metadata variant reads the same', () => {
    const f = parseFile(qualysVmdr, 'qualys_vmdr/one_vuln_cve.csv').findings[0]!
    expect(f.vulnerabilityIds).toEqual(['CVE-2021-44228'])
    expect(f.cvss).toEqual({ score: 10, version: '3.1' })
    expect(f.location).toEqual({ port: 8080, protocol: 'tcp' })
    const g = parseFile(qualysVmdr, 'qualys_vmdr/one_vuln_no_metadata_cve.csv').findings[0]!
    expect(g.title).toBe(f.title)
    expect(g.vulnerabilityIds).toEqual(['CVE-2021-44228'])
  })

  it('many_vulns_*: one finding per row', () => {
    expect(parseFile(qualysVmdr, 'qualys_vmdr/many_vulns_qid.csv').findings.map((f) => f.severity)).toContain('low')
    expect(parseFile(qualysVmdr, 'qualys_vmdr/many_vulns_cve.csv').findings.every((f) => f.vulnerabilityIds?.length === 1)).toBe(true)
  })

  it('reads Qualys non-standard quoting (,"" separators)', () => {
    const text = '"Asset Vuln Datalist Report","x"\n"c","d"\n"u","v"\n"QID,""Title"",""Severity"",""Status"",""Asset Name"",""Asset IPV4"""\n"1,""A ""quoted"" title"",""4"",""FIXED"",""H1"",""10.0.0.9"""\n'
    const d = doc(text, 'v.csv')
    expect(detectAmong(PARSERS, d)).toBe('qualys_vmdr')
    const f = parseWith(qualysVmdr, d).findings[0]!
    expect(f).toMatchObject({ title: 'A "quoted" title', severity: 'high', status: 'mitigated' })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(qualysVmdr, 'a,b,c\n1,2,3\n', 'v.csv', /header row/)
    rejects(qualysVmdr, '"QID","Title","Severity","Asset Id","Asset IPV4"\n"1","T","3","9",""\n', 'v.csv', /names no asset/)
  })
})

describe('qualys_hacker_guardian', () => {
  it('many_finding.csv: KB severity mapping, merge per host of one QID on two ports', () => {
    const r = parseFile(qualysHackerGuardian, 'qualys_hacker_guardian/many_finding.csv')
    expect(r.findings).toHaveLength(3)
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Reference to Windows file path is present in HTML', severity: 'low', scannerSeverity: '1', ruleId: '150059', occurrences: 2 })
    expect(f.extra?.ports).toEqual([80, 443])
    expect(f.cvss).toEqual({ score: 5.3 })
    expect(r.findings[1]).toMatchObject({ title: 'HTTP Security Header Not Detected', severity: 'low' })
    expect(r.assets.find((a) => a.key === f.assetKey)).toMatchObject({ type: 'INFRA', attributes: { ip: '18.238.109.17', hostname: 'help.example.co' } })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(qualysHackerGuardian, '"IP","HOSTNAME","QID","Q_SEVERITY"\n"1.2.3.4","h","1","2"\n', 'hg.csv', /VULN TITLE/)
    rejects(qualysHackerGuardian, '"IP","HOSTNAME","QID","VULN TITLE","Q_SEVERITY"\n"","","1","T","2"\n', 'hg.csv', /names no host/)
  })
})

describe('qualys_infrascan_webgui', () => {
  it('qualys_infrascan_webgui_multiple.xml: severity attribute, one finding per VULN per host', () => {
    const r = parseFile(qualysInfrascan, 'qualys_infrascan_webgui/qualys_infrascan_webgui_multiple.xml')
    expect(r.findings[0]).toMatchObject({ title: 'UDP Constant IP Identification Field Fingerprinting Vulnerability', severity: 'low', ruleId: '82024' })
    expect(r.findings[0]!.vulnerabilityIds).toEqual(['CVE-2002-0510'])
    expect(r.findings[4]).toMatchObject({ title: 'Hidden RPC Services', severity: 'low' })
    expect(r.assets.map((a) => a.attributes)).toEqual([
      { ip: '10.1.10.1', hostname: 'host1.example.com', os: expect.any(String) as string },
      { ip: '10.2.10.2', hostname: 'host2.example.com', os: expect.any(String) as string },
    ])
  })

  it('qualys_infrascan_webgui_1.xml: critical Oracle CPU with its CVE list', () => {
    const f = parseFile(qualysInfrascan, 'qualys_infrascan_webgui/qualys_infrascan_webgui_1.xml').findings[0]!
    expect(f).toMatchObject({ title: 'Oracle Java SE Critical Patch Update - January 2015', severity: 'critical' })
    expect(f.vulnerabilityIds?.length).toBe(19)
  })

  it('"No registered hostname" is not a hostname', () => {
    const r = parseFile(qualysInfrascan, 'qualys_infrascan_webgui/qualys_infrascan_webgui_3.xml')
    expect(r.assets[0]!.attributes).toEqual({ ip: '10.1.10.1', os: 'Linux 2.6' })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(qualysInfrascan, '<SCAN value="scan/1"><IP><VULNS/></IP></SCAN>', 's.xml', /neither a value nor a name/)
    rejects(qualysInfrascan, '<SCAN value="scan/1"><IP value="1.2.3.4"><VULNS><CAT value="x"><VULN severity="2"/></CAT></VULNS></IP></SCAN>', 's.xml', /TITLE/)
    rejects(qualysInfrascan, '<ASSET_DATA_REPORT/>', 's.xml', /<SCAN> root/)
  })
})

describe('qualys_webapp', () => {
  it('qualys_webapp_many_vuln.xml: vulnerabilities by QID then information gathered; WEB asset', () => {
    const r = parseFile(qualysWebapp, 'qualys_webapp/qualys_webapp_many_vuln.xml')
    expect(r.findings).toHaveLength(21)
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Path-Based Vulnerability', severity: 'low', ruleId: '150004' })
    expect(f.location?.url).toBe('https://store.example.com/js/xdr/core/lang/xdr_en.json.gz')
    expect(f.location?.method).toBe('GET')
    expect(r.findings.filter((x) => x.severity === 'info')).toHaveLength(18)
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'WEB', attributes: { url: 'https://store.example.com', fqdn: 'store.example.com', os: 'NetScaler' } }])
  })

  it('discussion_10239.xml: CWE and param of a vulnerability', () => {
    const f = parseFile(qualysWebapp, 'qualys_webapp/discussion_10239.xml').findings[0]!
    expect(f).toMatchObject({ title: 'Slow HTTP POST vulnerability', severity: 'medium' })
    expect(f.cwe?.length).toBeGreaterThan(0)
  })

  it('malformed input → ScanFormatError', () => {
    rejects(qualysWebapp, '<WAS_SCAN_REPORT>x</WAS_SCAN_REPORT>', 'w.xml', /no elements/)
    rejects(qualysWebapp, '<WAS_SCAN_REPORT><RESULTS><VULNERABILITY_LIST><VULNERABILITY><URL>http://a/</URL></VULNERABILITY></VULNERABILITY_LIST></RESULTS></WAS_SCAN_REPORT>', 'w.xml', /no <QID>/)
    rejects(qualysWebapp, '<SCAN/>', 'w.xml', /WAS_SCAN_REPORT/)
  })
})

describe('vm-common', () => {
  it('splits Qualys CVSS cells and prefixes bare v3 vectors', () => {
    expect(splitCvssCell('8.1 (AV:N/AC:H)')).toEqual({ score: 8.1, vector: 'AV:N/AC:H' })
    expect(splitCvssCell("'-")).toEqual({})
    expect(splitCvssCell('7.5')).toEqual({ score: 7.5 })
    expect(v3Vector('AV:N/AC:L')).toBe('CVSS:3.0/AV:N/AC:L')
    expect(v3Vector('CVSS:3.1/AV:N')).toBe('CVSS:3.1/AV:N')
  })
})
