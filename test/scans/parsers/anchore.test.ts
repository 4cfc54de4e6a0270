import { describe, expect, it } from 'vitest'
import { parser as anchoreGrype } from '../../../src/modules/scans/parsers/anchore_grype.js'
import { parser as anchoreEngine } from '../../../src/modules/scans/parsers/anchore_engine.js'
import { parser as anchoreEnterprise } from '../../../src/modules/scans/parsers/anchore_enterprise.js'
import { parser as anchorectlPolicies } from '../../../src/modules/scans/parsers/anchorectl_policies.js'
import { parser as anchorectlVulns } from '../../../src/modules/scans/parsers/anchorectl_vulns.js'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import type { ParsedFinding, ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [anchoreGrype, anchoreEngine, anchoreEnterprise, anchorectlPolicies, anchorectlVulns]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

function parseFile(parser: ScannerParser, file: string) {
  return parseWith(parser, corpusDocument(file))
}

function jsonDoc(value: unknown, name = 'report.json') {
  return loadDocument(name, JSON.stringify(value))
}

function byRule(findings: ParsedFinding[], ruleId: string): ParsedFinding {
  const f = findings.find((x) => x.ruleId === ruleId)
  expect(f, ruleId).toBeDefined()
  return f!
}

describe('anchore_grype fields', () => {
  it('check_all_fields: titles, severities, ids, CVSS, fix, tags and merging as DefectDojo', () => {
    const r = parseFile(anchoreGrype, 'anchore_grype/check_all_fields.json')
    expect(r.findings).toHaveLength(5)
    const [f0, f1, f2, , f4] = r.findings
    expect(f0!.title).toBe('CVE-2004-0971 in libgssapi-krb5-2:1.17-3+deb10u3')
    expect(f0!.severity).toBe('info')
    expect(f0!.scannerSeverity).toBe('Negligible')
    expect(f0!.vulnerabilityIds).toEqual(['CVE-2004-0971'])
    expect(f0!.component).toMatchObject({ name: 'libgssapi-krb5-2', version: '1.17-3+deb10u3', purl: 'pkg:deb/debian/libgssapi-krb5-2@1.17-3+deb10u3?arch=amd64' })
    expect(f0!.location?.path).toBe('/var/lib/dpkg/status')
    expect(f0!.tags).toEqual(['dpkg'])
    expect(f0!.remedy).toBeUndefined()
    expect(f0!.description).toContain('Related Vulnerability Description: The krb5-send-pr script')
    expect(f0!.description).toContain('Matcher: dpkg-matcher')
    expect(f0!.references).toContain('https://nvd.nist.gov/vuln/detail/CVE-2004-0971')
    expect(f0!.occurrences).toBeUndefined()

    expect(f1!.title).toBe('CVE-2021-32626 in redis:4.0.2')
    expect(f1!.severity).toBe('high')
    expect(f1!.cvss).toEqual({ vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', score: 8.8, version: '3.1' })
    expect(f1!.remedy).toBe('Upgrade to version:\n- fix_1\n- fix_2')
    expect(f1!.tags).toEqual(['python', 'python2'])
    expect(f1!.description).toContain('Matchers:\n- python-matcher\n- python2-matcher')

    expect(f2!.title).toBe('CVE-2021-33574 in libc-bin:2.28-10')
    expect(f2!.severity).toBe('critical')
    expect(f2!.cvss?.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')

    expect(f4!.title).toBe('GHSA-v6rh-hp5x-86rv in Django:3.2.9')
    expect(f4!.ruleId).toBe('GHSA-v6rh-hp5x-86rv')
    expect(f4!.vulnerabilityIds).toHaveLength(2)
    expect(f4!.vulnerabilityIds![1]).toBe('CVE-2021-44420')
    expect(f4!.remedy).toBe('Upgrade to version: 3.2.10')
    expect(f4!.fixVersion).toBe('3.2.10')
    expect(f4!.occurrences).toBe(2)
    expect(f4!.tags).toEqual(['python'])

    expect(r.assets).toEqual([{ key: f0!.assetKey, type: 'CONTAINER', attributes: { image: 'vulnerable-image:latest', os: 'debian 10' } }])
  })

  it('many_vulns3 and many_vulns4 (matcher list)', () => {
    const r3 = parseFile(anchoreGrype, 'anchore_grype/many_vulns3.json')
    const gnutls = r3.findings.find((f) => f.ruleId === 'CVE-2011-3389' && f.component?.name === 'libgnutls30')!
    expect(gnutls.severity).toBe('medium')
    expect(gnutls.component?.version).toBe('3.6.7-4+deb10u5')
    expect(gnutls.vulnerabilityIds).toEqual(['CVE-2011-3389'])
    for (const f of r3.findings) expect(f.vulnerabilityIds?.length).toBeGreaterThanOrEqual(1)

    const r4 = parseFile(anchoreGrype, 'anchore_grype/many_vulns4.json')
    const delegate = byRule(r4.findings, 'CVE-1999-1338')
    expect(delegate.severity).toBe('medium')
    expect(delegate.description).toContain('javascript-matcher')
    expect(delegate.component).toMatchObject({ name: 'delegate', version: '3.2.0' })
    // a directory scan: the scanned directory is "." — the report file names the source
    expect(r4.assets[0]).toMatchObject({ type: 'CODE', attributes: { scannerSource: 'many_vulns4.json' } })
  })

  it('merges one vulnerability in one package version found at several paths', () => {
    const r = parseFile(anchoreGrype, 'anchore_grype/same_cve_different_paths.json')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.occurrences).toBe(2)
    expect((r.findings[0]!.extra?.paths as string[]).length).toBe(2)
  })

  it('EPSS from the vulnerability, or from the related vulnerability', () => {
    const r = parseFile(anchoreGrype, 'anchore_grype/many_vulns_with_epss_values.json')
    expect(r.findings).toHaveLength(15)
    expect(r.findings[0]!.ruleId).toBe('CVE-2022-28391')
    expect(r.findings[0]!.epss?.score).toBeCloseTo(0.0719, 5)
    expect(r.findings[0]!.epss?.percentile).toBeCloseTo(0.91123, 5)
    expect(r.findings[14]!.ruleId).toBe('CVE-2025-46394')
    expect(r.findings[14]!.epss?.score).toBeCloseTo(0.00017, 5)

    const p = parseFile(anchoreGrype, 'anchore_grype/anchore_grype_epss_problem.json')
    expect(p.findings[0]!.ruleId).toBe('GHSA-4374-p667-p6c8')
    expect(p.findings[0]!.epss?.score).toBeCloseTo(0.00163, 5)
    expect(p.findings[0]!.epss?.percentile).toBeCloseTo(0.37957, 5)
    expect(p.findings[0]!.vulnerabilityIds).toContain('CVE-2023-39325')
  })

  it('fix available / not available', () => {
    expect(parseFile(anchoreGrype, 'anchore_grype/fix_available.json').findings[0]!.fixVersion).toBe('1.2.3')
    const none = parseFile(anchoreGrype, 'anchore_grype/fix_not_available.json').findings[0]!
    expect(none.fixVersion).toBeUndefined()
    expect(none.remedy).toBeUndefined()
  })

  it('old grype (0.7) reports: cvssV3 object, matchDetails object', () => {
    const r = parseFile(anchoreGrype, 'anchore_grype/grype_nginx.json')
    expect(r.findings).toHaveLength(143)
    expect(r.assets[0]).toMatchObject({ type: 'CONTAINER', attributes: { image: 'nginx:latest' } })
    expect(r.findings.every((f) => (f.tags?.length ?? 0) >= 1)).toBe(true)
    const ssh = r.findings.find((f) => f.title === 'CVE-2019-13115 in libssh2-1:1.8.0-2.1')!
    expect(ssh.cvss).toEqual({ vector: 'AV:N/AC:M/Au:N/C:P/I:N/A:P', score: 5.8, version: '2.0' })
    expect(ssh.references).toEqual(['https://security-tracker.debian.org/tracker/CVE-2019-13115'])
    const r3 = parseFile(anchoreGrype, 'anchore_grype/many_vulns3.json')
    expect(r3.findings.some((f) => f.cvss?.version === '3.1' && f.cvss.score === 8.8)).toBe(true)
  })

  it('image asset without userInput falls back to tags / image id', () => {
    const doc = jsonDoc({ matches: [], source: { type: 'image', target: { imageID: 'sha256:abc', tags: [] } }, descriptor: { name: 'grype' } })
    expect(parseWith(anchoreGrype, doc).assets[0]).toMatchObject({ type: 'CONTAINER', attributes: { image: 'sha256:abc' } })
  })

  it('strips NUL characters only with fix_data, and reports the repair', () => {
    const report = {
      matches: [{ vulnerability: { id: 'CVE-2020-0001', severity: 'Low' }, matchDetails: [], artifact: { name: 'pkg', version: '1.0\u0000', locations: [] } }],
      descriptor: { name: 'grype' },
    }
    const fixed = parseWith(anchoreGrype, jsonDoc(report), true)
    expect(fixed.findings[0]!.title).toBe('CVE-2020-0001 in pkg:1.0')
    expect(fixed.repairs).toHaveLength(1)
    const raw = parseWith(anchoreGrype, jsonDoc(report), false)
    expect(raw.findings[0]!.title).toBe('CVE-2020-0001 in pkg:1.0\u0000')
    expect(raw.repairs).toHaveLength(0)
  })

  it('malformed reports raise ScanFormatError', () => {
    expect(() => parseWith(anchoreGrype, jsonDoc({ matches: {} }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreGrype, jsonDoc({ matches: [{ artifact: {} }] }))).toThrow(/no "vulnerability"/)
    expect(() => parseWith(anchoreGrype, jsonDoc({ matches: [{ vulnerability: { id: 'X' } }] }))).toThrow(/no "artifact"/)
    expect(() => parseWith(anchoreGrype, jsonDoc({ matches: [{ vulnerability: {}, artifact: {} }] }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreGrype, jsonDoc([{ matches: [] }]))).toThrow(ScanFormatError)
  })
})

describe('anchore_engine fields', () => {
  it('many_vulns_2.4.1: findings[50] as DefectDojo', () => {
    const r = parseFile(anchoreEngine, 'anchore_engine/many_vulns_2.4.1.json')
    const f = r.findings[50]!
    expect(f.ruleId).toBe('CVE-2020-13776')
    expect(f.component).toMatchObject({ name: 'systemd-pam', version: '239-41.el8_3.1', ecosystem: 'rpm' })
    expect(f.cvss?.score).toBe(6.7)
    expect(f.cvss?.vector).toBe('CVSS:3.1/AV:L/AC:H/PR:L/UI:R/S:U/C:H/I:H/A:H')
    expect(f.vulnerabilityIds).toEqual(['CVE-2020-13776'])
    expect(f.fixVersion).toBeUndefined()
    expect(f.title).toBe('CVE-2020-13776 - systemd-pam-239-41.el8_3.1(rpm)')
    expect(f.severity).toBe('medium')
    expect(f.description).toContain('systemd through v245 mishandles numerical usernames')
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CONTAINER', attributes: { image: 'registry1.dsop.io/ironbank-staging/cloudbees/core/agent:152299' } }])
  })

  it('new format (metadata + securityEvaluation), issue 11552', () => {
    const r = parseFile(anchoreEngine, 'anchore_engine/new_format_issue_11552.json')
    const f = r.findings[50]!
    expect(f.ruleId).toBe('CVE-2023-0466')
    expect(f.component?.name).toBe('openssl-libs-1:1.1.1k-14.el8_6')
    expect(f.title).toBe('CVE-2023-0466-openssl-libs-1:1.1.1k-14.el8_6(RPM)')
    const first = r.findings[0]!
    expect(first.severity).toBe('critical')
    expect(first.cvss?.score).toBe(9.8)
    expect(first.fixVersion).toBe('10.1.34, 11.0.2, 9.0.98')
    expect(first.remedy).toBe('Upgrade to: 10.1.34 or 11.0.2 or 9.0.98')
    expect(first.location?.path).toBe('/aci/base/lib/tomcat-annotations-api-9.0.97.jar')
    expect(r.assets[0]).toMatchObject({ type: 'CONTAINER', attributes: { image: 'docker.io/myimage:new' } })
  })

  it('legacy anchore-cli reports: severities, fix, vendor CVSS', () => {
    const one = parseFile(anchoreEngine, 'anchore_engine/one_vuln.json')
    expect(one.findings).toHaveLength(1)
    expect(one.findings[0]).toMatchObject({ title: 'CVE-2011-3389 - libgnutls30-3.5.8-5+deb9u4(dpkg)', severity: 'medium', remedy: 'No fix available.' })
    expect(one.findings[0]!.location).toBeUndefined() // package_path "None"
    const many = parseFile(anchoreEngine, 'anchore_engine/many_vulns.json')
    expect(many.findings).toHaveLength(23)
    expect(many.findings.some((f) => f.scannerSeverity === 'Negligible' && f.severity === 'info')).toBe(true)
    const withFix = many.findings.find((f) => f.fixVersion === '1.18')!
    expect(withFix.cvss).toEqual({ score: 5, version: '2.0' }) // vendor v3 is -1 ("not set"): v2 instead
  })

  it('malformed reports raise ScanFormatError', () => {
    expect(() => parseWith(anchoreEngine, jsonDoc({ imageDigest: 'sha256:x', vulnerabilities: {} }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreEngine, jsonDoc({ vulnerabilities: [{ package: 'a' }] }))).toThrow(/no "vuln"/)
    expect(() => parseWith(anchoreEngine, jsonDoc({ vulnerabilities: ['x'] }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreEngine, jsonDoc({ metadata: {}, securityEvaluation: 3 }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreEngine, jsonDoc({ metadata: 'x' }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreEngine, jsonDoc({ foo: 1 }))).toThrow(ScanFormatError)
  })
})

describe('anchore_enterprise fields', () => {
  it('many_checks: 57 rows, findings[1] is the CVE-2015-2992 trigger', () => {
    const r = parseFile(anchoreEnterprise, 'anchore_enterprise/many_checks.json')
    const f = r.findings[1]!
    expect(f.vulnerabilityIds).toEqual(['CVE-2015-2992'])
    expect(f.title).toBe('DefaultPolicy - gate|vulnerabilities - trigger|CVE-2015-2992+struts-core-1.3.8.jar')
    expect(f.severity).toBe('medium')
    expect(f.scannerSeverity).toBe('warn')
    expect(f.location?.path).toBe('/root/.m2/repository/org/apache/struts/struts-core/1.3.8/struts-core-1.3.8.jar')
    expect(f.component?.name).toBe('struts-core-1.3.8.jar')
    expect(f.references).toEqual(['https://nvd.nist.gov/vuln/detail/CVE-2015-2992'])
    const first = r.findings[0]!
    expect(first.title).toBe('DefaultPolicy - gate|dockerfile - trigger|41cb7cdf04850e33a11f80c42bf660b3')
    expect(first.vulnerabilityIds).toBeUndefined()
    expect(first.location).toBeUndefined()
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CONTAINER', attributes: { image: 'gcr.io/jenkinsxio/builder-maven:latest' } }])
  })

  it('one check, no checks', () => {
    expect(parseFile(anchoreEnterprise, 'anchore_enterprise/one_check.json').findings).toHaveLength(1)
    const none = parseFile(anchoreEnterprise, 'anchore_enterprise/no_checks.json')
    expect(none.findings).toHaveLength(0)
    expect(none.assets).toHaveLength(1)
  })

  it('an invalid check layout ("results" instead of "result") raises ScanFormatError', () => {
    expect(() => parseFile(anchoreEnterprise, 'anchore_enterprise/invalid_checks_format.json')).toThrow(ScanFormatError)
  })

  it('malformed reports raise ScanFormatError', () => {
    expect(() => parseWith(anchoreEnterprise, jsonDoc({ 'sha256:x': {} }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchoreEnterprise, jsonDoc([{ 'sha256:x': { 'a:b': [{ detail: {} }] } }]))).toThrow(/not found/)
    expect(() => parseWith(anchoreEnterprise, jsonDoc([{ 'sha256:x': { 'a:b': [{}] } }]))).toThrow(ScanFormatError)
    const shortRow = [{ 'sha256:x': { 'a:b': [{ detail: { policy: { policies: [] }, result: { image_id: 'i', result: { i: { result: { rows: [['i', 'a:b']] } } } } } }] } }]
    expect(() => parseWith(anchoreEnterprise, jsonDoc(shortRow))).toThrow(ScanFormatError)
  })
})

describe('anchorectl_policies fields', () => {
  for (const file of ['one_violation.json', 'new_format_one_violation.json']) {
    it(`${file}: severity from the gate action`, () => {
      const r = parseFile(anchorectlPolicies, `anchorectl_policies/${file}`)
      expect(r.findings).toHaveLength(1)
      const f = r.findings[0]!
      expect(f.severity).toBe('medium')
      expect(f.title).toBe('RootUser - gate|dockerfile - trigger|b2605c2ddbdb02b8e2365c9248dada5a')
      expect(f.description).toBe('User root found as effective user, which is not on the allowed list')
      expect(f.ruleId).toBe('dockerfile:effective_user')
      expect(f.status).toBeUndefined()
      expect(r.assets).toEqual([{ key: f.assetKey, type: 'CONTAINER', attributes: { image: 'test/testimage:testtag' } }])
    })
  }

  for (const file of ['one_violation_description_severity.json', 'new_format_one_violation_description_severity.json']) {
    it(`${file}: severity from the check output`, () => {
      const f = parseFile(anchorectlPolicies, `anchorectl_policies/${file}`).findings[0]!
      expect(f.severity).toBe('critical')
      expect(f.title).toBe('RootUser - gate|dockerfile - trigger|b2605c2ddbdb02b8e2365c9248dada5a')
      expect(f.description).toBe('CRITICAL User root found as effective user, which is not on the allowed list')
    })
  }

  it('many violations: vulnerability ids, paths and packages from triggers', () => {
    for (const file of ['many_violations.json', 'new_format_many_violations.json']) {
      const r = parseFile(anchorectlPolicies, `anchorectl_policies/${file}`)
      expect(r.findings).toHaveLength(3)
      const [cve, ghsa, root] = r.findings
      expect(cve!.vulnerabilityIds).toEqual(['CVE-2022-1234'])
      expect(cve!.location?.path).toBe('/usr/local/bin/testbinary')
      expect(cve!.component?.name).toBe('test')
      expect(cve!.severity).toBe('high') // "HIGH Vulnerability …" (DefectDojo's word list misses HIGH and falls back to stop → Critical)
      expect(ghsa!.vulnerabilityIds).toEqual(['GHSA-1234-abcd-5678'])
      expect(ghsa!.severity).toBe('medium')
      expect(root!.severity).toBe('medium')
    }
  })

  it('a "go" gate action is accepted by the policy', () => {
    const doc = jsonDoc([{ detail: [{ description: 'LOW something', gate: 'g', policyId: 'P', status: 'go', tag: 'img:1', triggerId: 't' }], policyId: 'x', tag: 'img:1' }])
    const f = parseWith(anchorectlPolicies, doc).findings[0]!
    expect(f.severity).toBe('info')
    expect(f.status).toBe('risk_accepted')
  })

  it('malformed reports raise ScanFormatError', () => {
    expect(() => parseWith(anchorectlPolicies, jsonDoc({ evaluations: 'x' }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchorectlPolicies, jsonDoc([{ tag: 'a:b' }]))).toThrow(/no "detail" list/)
    expect(() => parseWith(anchorectlPolicies, jsonDoc(['x']))).toThrow(ScanFormatError)
    expect(() => parseWith(anchorectlPolicies, jsonDoc({ foo: 1 }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchorectlPolicies, jsonDoc([{ detail: ['x'] }]))).toThrow(ScanFormatError)
  })
})

describe('anchorectl_vulns fields', () => {
  it('one_vuln as DefectDojo', () => {
    const r = parseFile(anchorectlVulns, 'anchorectl_vulns/one_vuln.json')
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f.title).toBe('CVE-2011-3389 - libgnutls30-3.5.8-5+deb9u4 (dpkg)')
    expect(f.severity).toBe('medium')
    expect(f.description).toContain('That test description')
    expect(f.description).toContain('Feed: vulnerabilities/debian:9')
    expect(f.component).toMatchObject({ name: 'libgnutls30', version: '3.5.8-5+deb9u4', ecosystem: 'dpkg' })
    expect(f.references).toEqual(['https://security-tracker.debian.org/tracker/CVE-2011-3389'])
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CONTAINER', attributes: { image: 'one_vuln.json' } }])
  })

  it('many_vulns: 23', () => {
    const r = parseFile(anchorectlVulns, 'anchorectl_vulns/many_vulns.json')
    expect(r.findings).toHaveLength(23)
    expect(r.findings.find((f) => f.fixVersion === '1.18')?.cvss).toEqual({ score: 5, version: '2.0' })
  })

  it('also reads the securityEvaluation layout', () => {
    const r = parseWith(anchorectlVulns, corpusDocument('anchore_engine/new_format_issue_11552.json'))
    expect(r.findings.length).toBeGreaterThan(0)
    expect(r.findings[0]!.title).toBe('CVE-2024-50379 - tomcat-annotations-api-9.0.97 (Java)')
  })

  it('malformed reports raise ScanFormatError', () => {
    expect(() => parseWith(anchorectlVulns, jsonDoc([{ vuln: 'CVE-2020-1' }]))).toThrow(/no "package"/)
    expect(() => parseWith(anchorectlVulns, jsonDoc([7]))).toThrow(ScanFormatError)
    expect(() => parseWith(anchorectlVulns, jsonDoc({ foo: 1 }))).toThrow(ScanFormatError)
    expect(() => parseWith(anchorectlVulns, jsonDoc({ metadata: {}, securityEvaluation: {} }))).toThrow(ScanFormatError)
  })
})

describe('anchore detection', () => {
  it('does not claim other tools\u2019 reports', () => {
    const others = [
      { SchemaVersion: 2, ArtifactName: 'x', ArtifactType: 'container_image', Results: [] },
      { auditReportVersion: 2, vulnerabilities: {}, metadata: {} },
      { vulnerabilities: [{ id: 'SNYK-JS-1', packageName: 'a', version: '1' }], packageManager: 'npm', projectName: 'p' },
      { version: '2.1.0', runs: [] },
      { bomFormat: 'CycloneDX', specVersion: '1.4', vulnerabilities: [] },
      [{ Description: 'secret', File: 'a', RuleID: 'r' }],
      { results: [{ packages: [] }] },
    ]
    for (const o of others) expect(detectAmong(PARSERS, jsonDoc(o)), JSON.stringify(o).slice(0, 60)).toBeUndefined()
  })

  it('tells the anchore formats apart', () => {
    expect(detectAmong(PARSERS, jsonDoc({ matches: [] }))).toBe('anchore_grype')
    expect(detectAmong(PARSERS, jsonDoc({ metadata: { imageDigest: 'x' }, securityEvaluation: [] }))).toBe('anchore_engine')
    expect(detectAmong(PARSERS, jsonDoc({ evaluatedTag: 'a:b', evaluations: [] }))).toBe('anchorectl_policies')
  })
})
