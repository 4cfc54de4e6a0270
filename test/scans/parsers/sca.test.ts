import { describe, expect, it } from 'vitest'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { parser as cyclonedx } from '../../../src/modules/scans/parsers/cyclonedx.js'
import { parser as dependencyCheck } from '../../../src/modules/scans/parsers/dependency_check.js'
import { parser as osvScanner } from '../../../src/modules/scans/parsers/osv_scanner.js'
import { cvss3BaseScore, cvss3Vector, parsePurl } from '../../../src/modules/scans/parsers/sca-common.js'
import { parser as snyk } from '../../../src/modules/scans/parsers/snyk.js'
import { parser as snykCode } from '../../../src/modules/scans/parsers/snyk_code.js'
import { parser as snykIssueApi } from '../../../src/modules/scans/parsers/snyk_issue_api.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [snyk, snykCode, snykIssueApi, osvScanner, cyclonedx, dependencyCheck]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

const parseFile = (p: ScannerParser, file: string, fixData = true) => parseWith(p, corpusDocument(file), fixData)
const doc = (text: string, name = 'report.json') => loadDocument(name, text)
const rejects = (p: ScannerParser, text: string, message?: RegExp, name?: string) => {
  const d = doc(text, name)
  expect(() => parseWith(p, d)).toThrow(ScanFormatError)
  if (message) expect(() => parseWith(p, d)).toThrow(message)
}

describe('sca-common', () => {
  it('computes CVSS v3 base scores', () => {
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8)
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')).toBe(10)
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N')).toBe(3.7)
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N')).toBe(7.7)
    expect(cvss3BaseScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')).toBe(0)
    expect(cvss3BaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toBeUndefined()
    expect(cvss3Vector('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')
    expect(cvss3Vector('garbage')).toBeUndefined()
  })

  it('parses package URLs', () => {
    expect(parsePurl('pkg:maven/org.apache.activemq/activemq-broker@5.16.5')).toEqual({ type: 'maven', namespace: 'org.apache.activemq', name: 'activemq-broker', version: '5.16.5' })
    expect(parsePurl('pkg:npm/%40babel/core@7.0.0?x=1#sub')).toEqual({ type: 'npm', namespace: '@babel', name: 'core', version: '7.0.0' })
    expect(parsePurl('pkg:deb/debian/tar@1.30%2Bdfsg-6?arch=amd64')).toMatchObject({ name: 'tar', version: '1.30+dfsg-6' })
    expect(parsePurl('not-a-purl')).toBeUndefined()
  })
})

describe('snyk (CLI JSON)', () => {
  it('single_project_one_vuln: DefectDojo fields, asset', () => {
    const r = parseFile(snyk, 'snyk/single_project_one_vuln.json')
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f.title).toBe('com.test:myframework@1.0.0-SNAPSHOT: XML External Entity (XXE) Injection')
    expect(f.severity).toBe('medium')
    expect(f.scannerSeverity).toBe('medium')
    expect(f.ruleId).toBe('SNYK-JAVA-ORGAPACHESANTUARIO-460281')
    expect(f.vulnerabilityIds?.[0]).toBe('CVE-2019-12400')
    expect(f.vulnerabilityIds).toContain('SNYK-JAVA-ORGAPACHESANTUARIO-460281')
    expect(f.cwe).toEqual([611])
    expect(f.cvss).toEqual({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:L', score: 6.5, version: '3.1' })
    expect(f.component).toEqual({ name: 'org.apache.santuario:xmlsec', version: '2.1.1', ecosystem: 'maven' })
    expect(f.fixVersion).toBe('2.1.4')
    expect(f.location?.path).toBe('com.test:myframework > org.apache.santuario:xmlsec')
    expect(f.remedy).toBe('## Remediation\nUpgrade `org.apache.santuario:xmlsec` to version 2.1.4 or higher.\n\n' +
      'Upgrade Location: pom.xml\n' +
      'Upgrade from org.apache.santuario:xmlsec@2.1.1 to org.apache.santuario:xmlsec@2.1.4 to fix this issue, as well as updating the following:\n - org.apache.santuario:xmlsec@2.1.1')
    expect(f.tags).toEqual(['target_file:pom.xml', 'upgrade_to:org.apache.santuario:xmlsec@2.1.4'])
    expect(f.references).toContain('https://github.com/apache/santuario-java/commit/52ae824cf5f5c873a0e37bb33fedcc3b387cdba6')
    expect(f.description).toContain('Vulnerable path: com.test:myframework@1.0.0-SNAPSHOT > org.apache.santuario:xmlsec@2.1.1')
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'BUILD', attributes: { buildFile: 'pom.xml' } }])
  })

  it('keeps ampersands in dependency paths', () => {
    const r = parseFile(snyk, 'snyk/single_project_one_vuln_with_ampersands.json')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.location?.path).toBe('myproject > @angular/localize > @babel/core > lodash')
  })

  it('all_projects_issue4277: 82 findings across two projects', () => {
    const r = parseFile(snyk, 'snyk/all_projects_issue4277.json')
    expect(r.findings).toHaveLength(82)
    expect(r.assets.map((a) => a.attributes.buildFile)).toEqual(['company.Api.project\\src\\obj\\project.assets.json', 'company.Ux.project\\package-lock.json'])
    const [a, b, c] = [r.findings[0]!, r.findings[40]!, r.findings[81]!]
    expect(a).toMatchObject({ severity: 'high', ruleId: 'SNYK-DOTNET-MICROSOFTASPNETCORE-174184', cwe: [200] })
    expect(a.component).toMatchObject({ name: 'Microsoft.AspNetCore', version: '2.2.0' })
    expect(a.vulnerabilityIds?.[0]).toBe('CVE-2019-0815')
    expect(a.cvss?.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H')
    expect(b).toMatchObject({ severity: 'high', ruleId: 'SNYK-JS-LODASH-1040724', cwe: [78] })
    expect(b.component).toMatchObject({ name: 'lodash', version: '4.17.11' })
    expect(b.vulnerabilityIds?.[0]).toBe('CVE-2021-23337')
    expect(b.cvss?.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H/E:P/RL:U/RC:C')
    expect(c).toMatchObject({ severity: 'medium', ruleId: 'SNYK-JS-YARGSPARSER-560381', cwe: [400] })
    expect(c.component).toMatchObject({ name: 'yargs-parser', version: '5.0.0' })
    expect(c.vulnerabilityIds?.[0]).toBe('CVE-2020-7608')
  })

  it('severity falls back to the Snyk word when cvssScore is null; container asset', () => {
    const r = parseFile(snyk, 'snyk/single_project_None_cvss.json')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]).toMatchObject({ severity: 'low', ruleId: 'SNYK-SLES153-PERMISSIONS-2648113' })
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'CONTAINER', attributes: { image: 'a_container-engine-tls' } }])
  })

  it('all_containers_target_output: critical first finding tagged with its target file', () => {
    const r = parseFile(snyk, 'snyk/all_containers_target_output.json')
    expect(r.findings[0]!.severity).toBe('critical')
    expect(r.findings[0]!.tags).toContain('target_file:Mobile-Security-Framework-MobSF/requirements.txt')
  })

  it('single_project_upgrade_libs: upgrade tags and remediation', () => {
    const r = parseFile(snyk, 'snyk/single_project_upgrade_libs.json')
    const f = r.findings[227]!
    expect(f.title).toBe('acme-review@1.0.0: Remote Code Execution (RCE)')
    expect(f.severity).toBe('high')
    expect(f.tags).toContain('target_file:package-lock.json')
    expect(f.tags).toContain('upgrade_to:react-scripts@5.0.0')
    expect(f.remedy).toContain('shell-quote@1.7.2')
  })

  it('snyk container: image asset, EPSS, nested applications skipped with a warning', () => {
    const r = parseFile(snyk, 'snyk/snykcontainer_issue_epss.json')
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f.title).toBe('docker-image|sarim04/juiceshop@latest: CVE-2023-4039')
    expect(f.epss).toEqual({ score: 0.00046, percentile: 0.14414 })
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CONTAINER', attributes: { image: 'sarim04/juiceshop:latest' } }])
    expect(r.warnings.join()).toMatch(/application project/)
    expect(parseFile(snyk, 'snyk/snykcontainer_issue_9270.json').findings).toHaveLength(25)
  })

  it('delegates Snyk Code SARIF to the Snyk Code parser (DefectDojo: 39 findings)', () => {
    const d = corpusDocument('snyk/snykcode_issue_9270.json')
    expect(snyk.detect(d)).toBe(0)
    expect(parseWith(snyk, d).findings).toHaveLength(39)
  })

  it('rejects malformed Snyk reports', () => {
    rejects(snyk, '{"ok": true, "packageManager": "npm", "dependencyCount": 1, "vulnerabilities": {}}', /must be an array/)
    rejects(snyk, '{"ok": false, "packageManager": "npm", "dependencyCount": 1, "vulnerabilities": [{}]}', /vulnerabilities\[0\]/)
    rejects(snyk, '{"ok": false, "packageManager": "npm", "vulnerabilities": [{"from": ["a@1"], "title": "t", "id": "X", "packageName": "a", "severity": "bogus"}]}', /severity/)
    rejects(snyk, '{"ok": false, "error": "Could not detect supported target files", "path": "/src"}', /Could not detect supported target files/)
    rejects(snyk, '[1, 2]', /project 0/)
    expect(parseWith(snyk, doc('{}')).findings).toHaveLength(0)
  })
})

describe('snyk_code (SARIF)', () => {
  it('single_project_many_vulns: title, priority-score severity, location, CWE, fingerprint, asset', () => {
    const r = parseFile(snykCode, 'snyk_code/single_project_many_vulns.json')
    expect(r.findings).toHaveLength(206)
    const f = r.findings[0]!
    expect(f.title).toBe('javascript/Sqli_routes/login.js')
    expect(f.severity).toBe('high')
    expect(f.scannerSeverity).toBe('751')
    expect(f.ruleId).toBe('javascript/Sqli')
    expect(f.cwe).toEqual([89])
    expect(f.location).toEqual({ path: 'routes/login.js', line: 29, endLine: 29 })
    expect(f.uniqueId).toBe('9557079259256f1d94f16c0e176e81f0693c95a86c3280fb56526d5e98c10b66')
    expect(f.description).toContain('Unsanitized input from the HTTP request body')
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CODE', attributes: { scannerSource: 'single_project_many_vulns.json' } }])
  })

  it('outscores the generic SARIF cap and only claims Snyk Code logs', () => {
    expect(snykCode.detect(corpusDocument('snyk_code/snykcode_issue_9270.json'))).toBe(0.9)
    expect(snykCode.detect(doc('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]}'))).toBe(0)
    expect(detectAmong(PARSERS, corpusDocument('snyk/snykcode_issue_9270.json'))).toBe('snyk_code')
  })

  it('maps suppressions and falls back to the SARIF level without a priority score', () => {
    const sarif = {
      version: '2.1.0',
      runs: [{
        tool: { driver: { name: 'SnykCode', rules: [{ id: 'js/XSS', properties: { cwe: ['CWE-79'] } }] } },
        results: [
          { ruleId: 'js/XSS', ruleIndex: 0, level: 'error', message: { text: 'xss' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'a.js' }, region: { startLine: 3 } } }], suppressions: [{ kind: 'external', justification: 'not reachable', properties: { category: 'not-vulnerable' } }] },
          { ruleId: 'js/XSS', level: 'warning', message: { text: 'xss' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'b.js' } } }], suppressions: [{ kind: 'external', properties: { category: 'wont-fix' } }] },
        ],
      }],
    }
    const r = parseWith(snykCode, doc(JSON.stringify(sarif)))
    expect(r.findings.map((f) => [f.severity, f.status, f.cwe])).toEqual([['high', 'false_positive', [79]], ['medium', 'risk_accepted', [79]]])
    expect(r.findings[0]!.statusReason).toBe('not reachable')
  })

  it('rejects malformed Snyk Code input', () => {
    rejects(snykCode, '{"runs": [{"tool": {"driver": {"name": "SnykCode"}}, "results": {}}]}', /results must be an array/)
    rejects(snykCode, '{"runs": [{"tool": {"driver": {"name": "SnykCode"}}, "results": [{"message": {"text": "x"}}]}]}', /no ruleId/)
    rejects(snykCode, '{"ok": true, "vulnerabilities": []}', /import it as "snyk"/)
    rejects(snykCode, '{"runs": {}}', /runs/)
  })
})

describe('snyk_issue_api', () => {
  it('SCA issues: fields, ignored → false positive, resolved → mitigated, asset per Snyk project', () => {
    const r = parseFile(snykIssueApi, 'snyk_issue_api/snyk_sca_scan_api_many_vuln.json')
    expect(r.findings).toHaveLength(5)
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Denial of Service (DoS)', severity: 'high', cwe: [400], ruleId: 'SNYK-PYTHON-PILLOW-6219984' })
    expect(f.component).toEqual({ name: 'pillow', version: '9.5.0' })
    expect(f.location?.path).toBe('pillow')
    expect(f.cvss).toEqual({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5, version: '3.1' })
    expect(f.uniqueId).toBe('1534153a-33bb-434a-a80e-64690166ee4a')
    expect(f.status).toBeUndefined()
    expect(r.findings[1]!.status).toBe('false_positive')
    expect(r.findings[4]).toMatchObject({ status: 'mitigated', severity: 'critical' })
    expect(r.findings[4]!.vulnerabilityIds?.[0]).toBe('CVE-2025-43859')
    expect(r.assets[0]).toEqual({ key: f.assetKey, type: 'BUILD', attributes: { buildFile: 'snyk-project:1111111-1111-1111-1111-11111' } })
  })

  it('code issues: source location and CODE asset', () => {
    const r = parseFile(snykIssueApi, 'snyk_issue_api/snyk_code_scan_api_many_vuln.json')
    expect(r.findings).toHaveLength(3)
    expect(r.findings[0]).toMatchObject({ title: 'Cross-Site Request Forgery (CSRF)', severity: 'high', cwe: [352], location: { path: 'path/path/file.abc', line: 65, endLine: 71 } })
    expect(r.findings[1]!.status).toBe('false_positive')
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'CODE', attributes: { scannerSource: 'snyk-project:25502d3a-2799-4e20-97d6-2cb552058894' } }])
    expect(parseFile(snykIssueApi, 'snyk_issue_api/snyk_sca_scan_api_single_vuln.json').findings).toHaveLength(1)
  })

  it('skips non-issue entries and other issue types (DefectDojo)', () => {
    const body = { data: [{ type: 'package', attributes: {} }, { type: 'issue', attributes: { type: 'license', title: 'GPL' } }, { type: 'issue', id: 'i1', attributes: { type: 'code', title: 'x', effective_severity_level: 'bogus' } }] }
    const r = parseWith(snykIssueApi, doc(JSON.stringify(body)))
    expect(r.findings.map((f) => [f.title, f.severity])).toEqual([['x', 'info']])
  })

  it('rejects malformed issue lists', () => {
    rejects(snykIssueApi, '{"jsonapi": {"version": "1.0"}, "data": {}}', /"data" must be an array/)
    rejects(snykIssueApi, '{"data": [{"type": "issue"}]}', /attributes/)
    rejects(snykIssueApi, '{"data": [42]}', /data\[0\]/)
  })
})

describe('osv_scanner', () => {
  it('some_findings: malicious package advisory', () => {
    const r = parseFile(osvScanner, 'osv_scanner/some_findings.json')
    const f = r.findings[0]!
    expect(f.title).toBe('MAL-2023-1035_flot-axis')
    expect(f.cwe).toEqual([506])
    expect(f.vulnerabilityIds?.[0]).toBe('MAL-2023-1035')
    expect(f.vulnerabilityIds).toContain('GHSA-8348-2q94-ffjx')
    expect(f.severity).toBe('low')
    expect(f.component).toMatchObject({ name: 'flot-axis', version: '0.0.0', ecosystem: 'npm' })
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'BUILD', attributes: { buildFile: '/tmp/components/yarn.lock' } }])
  })

  it('keeps every CWE', () => {
    expect(parseFile(osvScanner, 'osv_scanner/multi_cwe_fabricated.json').findings[0]!.cwe).toEqual([79, 89])
  })

  it('many_findings: 66 findings, GHSA severity, file path, references, fix versions', () => {
    const r = parseFile(osvScanner, 'osv_scanner/many_findings.json')
    expect(r.findings).toHaveLength(66)
    expect(r.findings[0]).toMatchObject({ title: 'GHSA-25mq-v84q-4j7r_guzzlehttp/guzzle', severity: 'high', scannerSeverity: 'HIGH', fixVersion: '6.5.8' })
    expect(r.findings[0]!.vulnerabilityIds).toEqual(['GHSA-25mq-v84q-4j7r', 'CVE-2022-31090'])
    expect(r.findings[3]).toMatchObject({ title: 'GHSA-q559-8m2m-g699_guzzlehttp/guzzle', location: { path: '/tmpcardmarket-api/composer.lock' } })
    expect(r.findings[3]!.component).toMatchObject({ name: 'guzzlehttp/guzzle', version: '6.3.3', purl: 'pkg:composer/guzzlehttp/guzzle@6.3.3' })
    const f = r.findings[17]!
    expect(f.title).toBe('GHSA-53qw-q765-4fww_django')
    expect(f.references?.[0]).toBe('https://nvd.nist.gov/vuln/detail/CVE-2021-45115')
    expect(f.remedy).toContain('2.2.26')
    // the fix of the range django 3.2.4 is in, not the first range's
    expect(f.fixVersion).toBe('3.2.11')
  })

  it('rejects malformed osv-scanner reports', () => {
    rejects(osvScanner, '{"results": {}}', /"results" must be an array/)
    rejects(osvScanner, '{"results": [{"source": {"path": "a"}, "packages": {}}]}', /packages must be an array/)
    rejects(osvScanner, '{"results": [{"source": {"path": "a"}, "packages": [{"package": {"name": "x"}, "vulnerabilities": [1]}]}]}', /vulnerabilities\[0\]/)
  })
})

describe('cyclonedx', () => {
  it('grype_dd_1_14_1.xml (legacy vulnerability extension): severities, components, container asset', () => {
    const r = parseFile(cyclonedx, 'cyclonedx/grype_dd_1_14_1.xml')
    expect(r.findings).toHaveLength(312)
    expect(r.findings[0]).toMatchObject({ severity: 'low', component: { name: 'Django', version: '2.2.18' } })
    expect(r.findings[200]).toMatchObject({ severity: 'low', component: { name: 'libopenjp2-7', version: '2.3.0-2+deb10u2' }, vulnerabilityIds: ['CVE-2019-6988'] })
    expect(r.assets).toEqual([{
      key: r.findings[0]!.assetKey, type: 'CONTAINER',
      attributes: { image: 'defectdojo/defectdojo-django:1.14.1@sha256:53302007b6bca69dbb20922a2efcf873ff28947732a28bf6b4d33d17006463b5' },
    }])
  })

  it('dd_1_15_0.xml: Unknown → info, description keeps the reference', () => {
    const r = parseFile(cyclonedx, 'cyclonedx/dd_1_15_0.xml')
    expect(r.findings).toHaveLength(381)
    expect(r.findings[5]).toMatchObject({ severity: 'info', component: { name: 'bind9-host', version: '1:9.11.5.P4+dfsg-5.1+deb10u3' } })
    expect(r.findings[379]!.description).toContain('urn:uuid:be0e9032-5b6b-4ce4-9be4-e5956a0309c1')
    expect(r.findings[379]!.ruleId).toBe('CVE-2019-9923')
  })

  it.each(['cyclonedx/spec1.xml', 'cyclonedx/spec1_lowfirst.xml'])('%s: the CVSSv3 rating sets the severity', (file) => {
    const r = parseFile(cyclonedx, file)
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'jackson-databind:2.9.9 | CVE-2018-7489', severity: 'critical', ruleId: 'CVE-2018-7489', remedy: 'Upgrade' })
    expect(f.cvss?.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')
    expect(f.component).toMatchObject({ name: 'jackson-databind', version: '2.9.9' })
    expect(f.cwe).toEqual([184, 502])
    expect(f.vulnerabilityIds).toEqual(['CVE-2018-7489'])
  })

  it.each(['cyclonedx/valid-vulnerability-1.4.json', 'cyclonedx/valid-vulnerability-1.4.xml'])('%s: VEX not_affected → mitigated', (file) => {
    const r = parseFile(cyclonedx, file)
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f.title).toBe('jackson-databind:2.9.4 | SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111')
    expect(f.severity).toBe('critical')
    expect(f.component).toMatchObject({ name: 'jackson-databind', version: '2.9.4' })
    expect(f.cwe?.[0]).toBe(184)
    expect(f.cvss?.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')
    expect(f.ruleId).toBe('SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111')
    expect(f.vulnerabilityIds).toEqual(['SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111', 'CVE-2018-7489'])
    expect(f.status).toBe('mitigated')
    expect(f.statusReason).toBe('An optional explanation of why the application is not affected by the vulnerable component.')
    expect(f.remedy).toContain('Upgrade com.fasterxml.jackson.core:jackson-databind to version 2.6.7.5, 2.8.11.1, 2.9.5 or higher.')
    expect(f.references).toContain('https://github.com/FasterXML/jackson-databind/commit/6799f8f10cc78e9af6d443ed6982d00a13f2e7d2')
  })

  it('nested components (JSON) and log4j XML/JSON', () => {
    for (const file of ['cyclonedx/nested-component-log4j.json', 'cyclonedx/log4j.json', 'cyclonedx/log4j.xml']) {
      const r = parseFile(cyclonedx, file)
      expect(r.findings).toHaveLength(8)
      expect(r.findings[0]).toMatchObject({ title: 'log4j-core:2.13.2 | CVE-2021-44228', severity: 'critical', component: { name: 'log4j-core', version: '2.13.2' } })
      expect(r.findings[0]!.cvss?.vector).toBe('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')
    }
  })

  it('no-severity.json: severity from the vector; unknown target kept as DefectDojo titles it', () => {
    const r = parseFile(cyclonedx, 'cyclonedx/no-severity.json')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]).toMatchObject({ title: 'None:None | CVE-2021-44228', severity: 'critical', cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', score: 10 } })
    expect(r.warnings.join()).toMatch(/gerbwetbqt/)
  })

  it('issue_9277.json: a target missing from the BOM is repaired from its package URL only with fixData', () => {
    const fixed = parseFile(cyclonedx, 'cyclonedx/issue_9277.json')
    expect(fixed.findings).toHaveLength(14)
    expect(fixed.findings[1]!.title).toBe('tar:1.30+dfsg-6 | TEMP-0290435-0B57B5')
    expect(fixed.repairs).toHaveLength(1)
    expect(fixed.assets[0]).toMatchObject({ type: 'CONTAINER', attributes: { image: 'ubuntu:latest' } })
    const raw = parseFile(cyclonedx, 'cyclonedx/issue_9277.json', false)
    expect(raw.findings[1]!.title).toBe('None:None | TEMP-0290435-0B57B5')
    expect(raw.repairs).toHaveLength(0)
  })

  it('jake2.json and issue_8022.json (DefectDojo: 7 and 1)', () => {
    const r = parseFile(cyclonedx, 'cyclonedx/jake2.json')
    expect(r.findings).toHaveLength(7)
    const f = r.findings.find((x) => x.ruleId === 'c7129ff8-08bc-4afe-82ec-7d97b9491741')!
    expect(f).toMatchObject({ title: 'Django:2.0 | c7129ff8-08bc-4afe-82ec-7d97b9491741', severity: 'high' })
    expect(f.vulnerabilityIds?.[1]).toBe('CVE-2021-33203')
    expect(parseFile(cyclonedx, 'cyclonedx/issue_8022.json').findings).toHaveLength(1)
  })

  it('multiple CWEs (XML 1.4)', () => {
    expect(parseFile(cyclonedx, 'cyclonedx/multiple_cwes_fabricated.xml').findings[0]!.cwe).toEqual([79, 89])
  })

  it('VEX false_positive and exploitable states', () => {
    const bom = {
      bomFormat: 'CycloneDX', specVersion: '1.5', version: 1,
      metadata: { component: { type: 'application', name: 'shop' } },
      components: [{ 'bom-ref': 'a', name: 'a', version: '1' }],
      vulnerabilities: [
        { id: 'CVE-2020-0001', ratings: [{ severity: 'high' }], affects: [{ ref: 'a' }], analysis: { state: 'false_positive', detail: 'never loaded' } },
        { id: 'CVE-2020-0002', affects: [{ ref: 'a' }], analysis: { state: 'exploitable' } },
      ],
    }
    const r = parseWith(cyclonedx, doc(JSON.stringify(bom)))
    expect(r.findings.map((f) => [f.severity, f.status])).toEqual([['high', 'false_positive'], ['medium', undefined]])
    expect(r.findings[0]!.remedy).toContain('never loaded')
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'BUILD', attributes: { buildFile: 'shop' } }])
  })

  it('stays a generic format (score ≤ 0.6)', () => {
    expect(cyclonedx.detect(corpusDocument('cyclonedx/log4j.json'))).toBeLessThanOrEqual(0.6)
    expect(cyclonedx.detect(corpusDocument('cyclonedx/spec1.xml'))).toBeLessThanOrEqual(0.6)
  })

  it('rejects malformed BOMs', () => {
    rejects(cyclonedx, '{"bomFormat": "CycloneDX", "vulnerabilities": {}}', /"vulnerabilities" must be an array/)
    rejects(cyclonedx, '{"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "X", "affects": [{}]}]}', /no "ref"/)
    rejects(cyclonedx, '{"bomFormat": "CycloneDX", "components": {"a": 1}}', /"components" must be an array/)
    rejects(cyclonedx, '<bom xmlns="http://example.com/not-cyclonedx"><components/></bom>', /namespace/, 'bom.xml')
    rejects(cyclonedx, '<analysis/>', /not <bom>/, 'x.xml')
  })
})

describe('dependency_check', () => {
  it('PR6439.xml: suppressed vulnerability, purl component, CVSS v3 from metrics', () => {
    const r = parseFile(dependencyCheck, 'dependency_check/PR6439.xml')
    expect(r.findings).toHaveLength(34)
    const f = r.findings[0]!
    expect(f.title).toBe('org.apache.activemq:activemq-broker:5.16.5 | CVE-2015-3208')
    expect(f.component).toMatchObject({ name: 'org.apache.activemq:activemq-broker', version: '5.16.5', purl: 'pkg:maven/org.apache.activemq/activemq-broker@5.16.5' })
    expect(f.severity).toBe('critical')
    expect(f.cvss).toEqual({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, version: '3.1' })
    expect(f.location?.path).toBe('activemq-broker-5.16.5.jar')
    expect(f.vulnerabilityIds).toEqual(['CVE-2015-3208'])
    expect(f.cwe).toEqual([611])
    expect(f.description).toContain('XML external entity (XXE) vulnerability in the XPath selector component in')
    expect(f.description).toContain('Source: OSSINDEX')
    expect(f.status).toBe('mitigated')
    expect(f.statusReason).toMatch(/^Ist eine Dependency vom CXF/)
    expect(f.remedy).toContain('This vulnerability is mitigated and/or suppressed: Ist eine Dependency vom CXF. Der im Finding erwähnte Bug ist seit Version 1.0')
    expect(f.tags).toEqual(['suppressed'])
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'BUILD', attributes: { buildFile: 'Business Process Center - Runtime Environment' } }])
  })

  it('single_vuln.xml: maven identifier, Moderate → medium, CWE fallback', () => {
    const r = parseFile(dependencyCheck, 'dependency_check/single_vuln.xml')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]).toMatchObject({
      title: 'org.owasp:library:6.7.8 | CVE-0000-0001', severity: 'medium', cwe: [1035],
      component: { name: 'org.owasp:library', version: '6.7.8' },
      remedy: 'Update org.owasp:library:6.7.8 to at least the version recommended in the description',
    })
    expect(r.findings[0]!.cvss).toBeUndefined()
  })

  it('version-6.5.3: low severity from the CVSS v3 metrics; multi-CWE file keeps both', () => {
    const f = parseFile(dependencyCheck, 'dependency_check/version-6.5.3.xml').findings[0]!
    expect(f).toMatchObject({ severity: 'low', component: { name: 'org.apache.logging.log4j:log4j-api', version: '2.12.4' }, location: { path: 'log4j-api-2.12.4.jar' } })
    expect(f.cvss).toEqual({ vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N', score: 3.7, version: '3.1' })
    expect(f.description).toContain('Improper validation of certificate with host mismatch in Apache Log4j SMTP appender.')
    const m = parseFile(dependencyCheck, 'dependency_check/version-6.5.3_multi_cwe_fabricated.xml').findings[0]!
    expect(m.cwe).toEqual([295, 297])
  })

  it('multiple vulnerabilities: component sources, suppressed with and without notes, related files in the description', () => {
    const r = parseFile(dependencyCheck, 'dependency_check/multiple_vulnerabilities_has_multiple_findings.xml')
    const titles = r.findings.map((f) => f.title)
    expect(titles[0]).toBe('org.dom4j:dom4j:2.1.1.redhat-00001 | CVE-0000-0001')
    expect(r.findings[0]!.location?.path).toBe('adapter-ear1.ear: dom4j-2.1.1.jar')
    expect(r.findings[0]!.description).toContain('/var/lib/adapter-ear1.ear/dom4j-2.1.1.jar')
    expect(titles).toContain('yargs-parser:5.0.0 | 1500')
    expect(titles).toContain("yargs-parser:5.0.0 | CWE-400: Uncontrolled Resource Consumption ('Resource Exhaustion')")
    expect(titles).toContain('dom4j:2.1.1 | CVE-0000-0001')
    expect(titles).toContain('jquery:3.1.1 | CVE-0000-0001')
    const yargs = r.findings.find((f) => f.title === 'yargs-parser:5.0.0 | CVE-2020-7608')!
    expect(yargs).toMatchObject({ severity: 'high', cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', score: 7.5 } })
    const suppressed = r.findings.filter((f) => f.status === 'mitigated')
    expect(suppressed).toHaveLength(2)
    expect(suppressed[0]).toMatchObject({ severity: 'critical', tags: ['no_suppression_document', 'suppressed'] })
    expect(suppressed[0]!.remedy).toBe('This vulnerability is mitigated and/or suppressed: Document on why we are suppressing this vulnerability is missing!\nUpdate jquery:3.1.1 to at least the version recommended in the description')
    expect(suppressed[1]!.statusReason).toBe('This is our reason for not to upgrade it.')
  })

  it('rejects documents that are not Dependency-Check reports', () => {
    rejects(dependencyCheck, '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"/>', /not <analysis>/, 'x.xml')
    rejects(dependencyCheck, '{"dependencies": []}', /XML/)
    expect(dependencyCheck.detect(doc('<analysis xmlns="urn:other"><foo/></analysis>', 'x.xml'))).toBe(0)
  })
})
