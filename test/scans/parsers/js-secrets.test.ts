import { describe, expect, it } from 'vitest'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { parser as gitleaks } from '../../../src/modules/scans/parsers/gitleaks.js'
import { looseHost, loosePort, npmCwes } from '../../../src/modules/scans/parsers/js-secrets-common.js'
import { parser as npmAudit } from '../../../src/modules/scans/parsers/npm_audit.js'
import { parser as npmAudit7 } from '../../../src/modules/scans/parsers/npm_audit_7_plus.js'
import { parser as nuclei } from '../../../src/modules/scans/parsers/nuclei.js'
import { parser as pnpmAudit } from '../../../src/modules/scans/parsers/pnpm_audit.js'
import { parser as trufflehog } from '../../../src/modules/scans/parsers/trufflehog.js'
import { parser as trufflehog3 } from '../../../src/modules/scans/parsers/trufflehog3.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { EmptyReportError, ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import { parser as yarnAudit } from '../../../src/modules/scans/parsers/yarn_audit.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [npmAudit, npmAudit7, yarnAudit, pnpmAudit, gitleaks, trufflehog, trufflehog3, nuclei]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

const parseFile = (p: ScannerParser, file: string, fixData = true) => parseWith(p, corpusDocument(file), fixData)
const doc = (text: string, name = 'report.json') => loadDocument(name, text)
const rejects = (p: ScannerParser, text: string, message?: RegExp) => {
  const d = doc(text)
  expect(() => parseWith(p, d)).toThrow(ScanFormatError)
  if (message) expect(() => parseWith(p, d)).toThrow(message)
}

describe('npm_audit (npm ≤ 6)', () => {
  it('one_vuln: title, severity, CWE, component, CVE, path, asset', () => {
    const r = parseFile(npmAudit, 'npm_audit/one_vuln.json')
    const f = r.findings[0]!
    expect(f.title).toBe('Command Injection - (growl, <1.10.2)')
    expect(f.severity).toBe('critical')
    expect(f.scannerSeverity).toBe('critical')
    expect(f.cwe).toEqual([94])
    expect(f.component).toMatchObject({ name: 'growl', version: '1.9.2', purl: 'pkg:npm/growl@1.9.2', ecosystem: 'npm' })
    expect(f.vulnerabilityIds).toEqual(['CVE-2017-16042'])
    expect(f.location?.path).toBe('mocha-jenkins-reporter>mocha>growl')
    expect(f.remedy).toBe('Update to version 1.10.2 or later.')
    expect(f.fixVersion).toBe('1.10.2')
    expect(f.references).toContain('https://www.npmjs.com/advisories/146')
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'BUILD', attributes: { buildFile: 'one_vuln.json' } }])
  })

  it('cwe_null falls back to CWE-1035 like DefectDojo', () => {
    const f = parseFile(npmAudit, 'npm_audit/cwe_null.json').findings[0]!
    expect(f.cwe).toEqual([1035])
    expect(f.component).toMatchObject({ name: 'growl', version: '1.9.2' })
  })

  it('multiple_cwes: CWE given as a JSON string, order kept', () => {
    const r = parseFile(npmAudit, 'npm_audit/multiple_cwes.json')
    expect(r.findings[0]!.cwe?.[0]).toBe(400)
    expect(r.findings[12]!.cwe?.[0]).toBe(359)
    expect(r.findings[0]!.vulnerabilityIds).toEqual(['CVE-2021-23424', 'GHSA-whgm-jr23-g3j9'])
    expect(r.findings[0]!.cvss).toEqual({ vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5, version: '3.1' })
  })

  it('multiple_cwes2: CWE list keeps every CWE', () => {
    const f = parseFile(npmAudit, 'npm_audit/multiple_cwes2.json').findings[0]!
    expect(f.cwe).toEqual([918, 1333])
  })

  it('censors npm\'s random git-dependency hash only with fixData, and reports the repair', () => {
    const fixed = parseFile(npmAudit, 'npm_audit/many_vuln.json', true)
    expect(fixed.repairs.length).toBe(1)
    expect(fixed.findings.some((f) => f.location?.path?.startsWith('censored_by_npm_audit>send'))).toBe(true)
    const raw = parseFile(npmAudit, 'npm_audit/many_vuln.json', false)
    expect(raw.repairs).toEqual([])
    expect(raw.findings.some((f) => f.location?.path?.startsWith('c748e76b'))).toBe(true)
  })

  it('refuses npm 7 reports and error reports with a clear message', () => {
    expect(() => parseFile(npmAudit, 'npm_audit/many_vuln_npm7.json')).toThrow(/npm 7\+ report.*npm_audit_7_plus/)
    expect(() => parseFile(npmAudit, 'npm_audit/empty_with_error.json')).toThrow(/contains errors: ENOAUDIT/)
  })

  it('malformed input → ScanFormatError', () => {
    rejects(npmAudit, '{"actions": [], "advisories": [], "muted": []}', /advisories/)
    rejects(npmAudit, '{"actions": [], "advisories": {"1": "x"}, "muted": []}', /advisory must be an object/)
    rejects(npmAudit, '{"actions": [], "advisories": {"1": {"id": 1, "title": "t"}}, "muted": []}', /module_name/)
    rejects(npmAudit, '[1, 2]')
  })
})

describe('npm_audit_7_plus', () => {
  it('many_vulns: a package vulnerable through dependencies is titled by name with CWE-1035', () => {
    const r = parseFile(npmAudit7, 'npm_audit_7_plus/many_vulns.json')
    const f = r.findings[0]!
    expect(f.title).toBe('@vercel/fun')
    expect(f.severity).toBe('medium')
    expect(f.cwe).toEqual([1035])
    expect(f.component).toMatchObject({ name: '@vercel/fun', purl: 'pkg:npm/%40vercel/fun', ecosystem: 'npm' })
    expect(f.remedy).toBe('Update vercel to version 32.3.0 (semver major change)')
    expect(r.assets[0]).toMatchObject({ type: 'BUILD', attributes: { buildFile: 'many_vulns.json' } })
  })

  it('one_vuln: advisory title, CWE, CVSS, GHSA, advisory id', () => {
    const f = parseFile(npmAudit7, 'npm_audit_7_plus/one_vuln.json').findings[0]!
    expect(f.title).toBe('Regular Expression Denial of Service in debug')
    expect(f.severity).toBe('high')
    expect(f.cwe).toEqual([400])
    expect(f.cvss?.vector).toBe('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L')
    expect(f.ruleId).toBe('1094222')
    expect(f.vulnerabilityIds).toEqual(['GHSA-gxpj-cx7g-858c', 'GHSA-9vvw-cc9w-f27h'])
    expect(f.location?.path).toBe('node_modules/debug')
  })

  it('issue_10801: an advisory with an empty CWE list has no CWE', () => {
    const r = parseFile(npmAudit7, 'npm_audit_7_plus/issue_10801.json')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.cwe).toBeUndefined()
  })

  it('reads `npm audit fix --dry-run --json` (report under "audit")', () => {
    const d = doc('{"audit": {"auditReportVersion": 2, "vulnerabilities": {"x": {"name": "x", "severity": "low", "via": [{"source": 1, "title": "T", "url": "u", "cwe": ["CWE-79"], "cvss": {"score": 0, "vectorString": null}}], "nodes": ["node_modules/x"], "effects": [], "range": "*", "fixAvailable": true}}}}')
    expect(detectAmong(PARSERS, d)).toBe('npm_audit_7_plus')
    const f = parseWith(npmAudit7, d).findings[0]!
    expect(f).toMatchObject({ title: 'T', severity: 'low', cwe: [79], remedy: 'Run npm audit fix' })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(npmAudit7, '{"vulnerabilities": {}}', /auditReportVersion/)
    rejects(npmAudit7, '{"auditReportVersion": 2, "vulnerabilities": []}', /vulnerabilities/)
    rejects(npmAudit7, '{"auditReportVersion": 2, "vulnerabilities": {"x": 1}}', /"x" must be an object/)
    rejects(npmAudit7, '{"auditReportVersion": 2, "vulnerabilities": {"x": {"via": "y"}}}', /via/)
  })
})

describe('yarn_audit', () => {
  it('yarn 1 JSON lines: one finding per advisory + module, component and path', () => {
    const r = parseFile(yarnAudit, 'yarn_audit/yarn_audit_one_vul.json')
    const f = r.findings[0]!
    expect(f.component).toMatchObject({ name: 'handlebars', version: '4.5.2' })
    expect(f.title).toBe('Prototype Pollution - (handlebars, <3.0.8 || >=4.0.0 <4.5.3)')
    expect(f.severity).toBe('high')
    expect(r.assets[0]).toMatchObject({ type: 'BUILD', attributes: { buildFile: 'yarn_audit_one_vul.json' } })
  })

  it('yarn 1: repeated advisories merge (occurrences), CWE and CVE ids', () => {
    const r = parseFile(yarnAudit, 'yarn_audit/yarn_audit_multiple_cwes2.json')
    expect(r.findings[0]!.cwe?.[0]).toBe(918)
    expect(r.findings[1]!.cwe).toEqual([1035])
    expect(r.findings[1]!.vulnerabilityIds?.[0]).toBe('CVE-2021-3807')
    expect(r.findings.reduce((n, f) => n + (f.occurrences ?? 1), 0)).toBe(5)
  })

  it('audit-ci JSON: "{CVE}_{module}" titles, CWE, CVE', () => {
    const r = parseFile(yarnAudit, 'yarn_audit/issue_6495.json')
    expect(r.findings[0]!.title).toBe('CVE-2020-7788_ini')
    expect(r.findings[0]!.cwe).toEqual([1321])
    expect(r.findings[1]!.vulnerabilityIds?.[0]).toBe('CVE-2022-25851')
    expect(r.findings[0]!.cvss).toMatchObject({ score: 7.3, version: '3.1' })
    const fab = parseFile(yarnAudit, 'yarn_audit/issue_6495_multi_cwe_fabricated.json')
    expect(fab.findings[0]!.cwe).toEqual([1321, 915])
  })

  it('yarn 2+ (`yarn npm audit --json`): one finding per line', () => {
    const r = parseFile(yarnAudit, 'yarn_audit/yarn2_audit_issue9911.json')
    expect(r.findings).toHaveLength(4)
    expect(r.findings[0]).toMatchObject({ title: '@babel/plugin-proposal-class-properties (deprecation)', severity: 'medium', tags: ['deprecation'] })
    const last = r.findings[3]!
    expect(last.title).toBe('Transformers Deserialization of Untrusted Data vulnerability (transformers)')
    expect(last.severity).toBe('low')
    expect(last.vulnerabilityIds).toEqual(['GHSA-37q5-v5qm-c9v8'])
    expect(last.component).toMatchObject({ name: 'transformers', version: '4.38' })
  })

  it('a yarn error line fails the import', () => {
    expect(() => parseFile(yarnAudit, 'yarn_audit/empty_with_error.json')).toThrow(/yarn audit report contains errors: .*ECONNREFUSED/)
  })

  it('malformed input → ScanFormatError', () => {
    rejects(yarnAudit, '{"type":"auditAdvisory","data":{}}\n{"type":"auditSummary","data":{}}', /data.advisory/)
    rejects(yarnAudit, '{"type":"auditAdvisory","data":{"advisory":{"id":1}}}\n{"type":"auditSummary","data":{}}', /module_name/)
    rejects(yarnAudit, '{"foo": 1}', /expected yarn audit/)
    rejects(yarnAudit, '{"actions":[],"advisories":{"1":{"module_name":"x"}},"muted":[],"metadata":{},"runId":"r"}', /npm audit report/)
  })
})

describe('pnpm_audit', () => {
  it('one advisory per module, installed version and GHSA; titles "{module}: {title}"', () => {
    const r = parseFile(pnpmAudit, 'pnpm_audit/pnpm_audit_one_vuln.json')
    expect(r.findings.map((f) => f.title)).toEqual(['minimist: Prototype Pollution in minimist', 'minimist: Prototype Pollution in minimist'])
    const [a, b] = r.findings
    expect(a).toMatchObject({ severity: 'medium', cwe: [1321], ruleId: 'GHSA-vh95-rmgr-6w4m', vulnerabilityIds: ['GHSA-vh95-rmgr-6w4m'], fixVersion: '1.2.3' })
    expect(a!.component).toMatchObject({ name: 'minimist', version: '1.2.0', purl: 'pkg:npm/minimist@1.2.0' })
    expect(a!.location?.path).toBe('.>minimist')
    expect(b!.severity).toBe('critical')
    expect(r.assets[0]).toMatchObject({ type: 'BUILD', attributes: { buildFile: 'pnpm_audit_one_vuln.json' } })
  })

  it('an advisory matching two installed versions is two findings; unknown severity is medium', () => {
    const d = doc(JSON.stringify({ advisories: { 1: { id: 1, module_name: 'm', title: 'T', severity: 'weird', findings: [{ version: '1.0.0', paths: ['.>m'] }, { version: '2.0.0', paths: ['.>a>m'] }] } }, metadata: {} }))
    expect(detectAmong(PARSERS, d)).toBe('pnpm_audit')
    const r = parseWith(pnpmAudit, d)
    expect(r.findings.map((f) => [f.component?.version, f.severity, f.location?.path])).toEqual([['1.0.0', 'medium', '.>m'], ['2.0.0', 'medium', '.>a>m']])
  })

  it('malformed input → ScanFormatError', () => {
    rejects(pnpmAudit, '{"advisories": [1], "metadata": {}}', /advisories/)
    rejects(pnpmAudit, '{"advisories": {"1": {"module_name": "m", "findings": "x"}}, "metadata": {}}', /findings/)
    // `[]` carries no format: the loader reports it as an empty report before any parser sees it.
    expect(() => doc('[]')).toThrow(EmptyReportError)
  })
})

describe('gitleaks', () => {
  it('legacy layout: title, severity keyword rule, path, tags, asset fallback', () => {
    const r = parseFile(gitleaks, 'gitleaks/data_many.json')
    expect(r.findings[0]).toMatchObject({ title: 'Hard Coded Github', severity: 'critical', cwe: [798], location: { path: '.bashrc' } })
    expect(r.findings[0]!.tags?.length).toBeGreaterThan(0)
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'CODE', attributes: { scannerSource: 'data_many.json' } }])
  })

  it('v7.5: line numbers, first of repeated leaks kept', () => {
    const r = parseFile(gitleaks, 'gitleaks/version_7.5.0.json')
    expect(r.findings[0]!.title).toBe('Hard Coded AWS Access Key')
    expect(r.findings[0]!.location?.path).toMatch(/^dojo\/unittests\/scans\/gitlab_secret_detection_report\/gitlab_secret_detection_report_1_vu/)
    expect(r.findings[0]!.location?.line).toBe(13)
    expect(r.findings[1]!.title).toBe('Hard Coded Asymmetric Private Key')
    expect(r.findings[1]!.location?.line).toBe(13)
    expect(r.findings[0]!.description).not.toContain('AKIAIOSFODNN7EXAMPLE')
  })

  it('v8 layout: title, line, merged repeats, masked secret, rule id', () => {
    const r = parseFile(gitleaks, 'gitleaks/gitleaks8_many.json')
    const [a, b] = r.findings
    expect(a).toMatchObject({ title: 'Hard coded AWS found in /conf/aws.tf', severity: 'high', location: { path: '/conf/aws.tf', line: 2 }, ruleId: 'aws-access-token', occurrences: 2 })
    expect(a!.description).not.toContain('secretAWSsecret')
    expect(b!.title).toBe('Hard coded RSA private key found in conf/rsa.pk')
    expect(b!.tags).toEqual(['tag1', 'tag2'])
  })

  it('a repository URL in the report makes a REPOSITORY asset', () => {
    const d = doc(JSON.stringify([{ line: 'k = "AKIA"', lineNumber: 3, offender: 'AKIA', commit: 'c', repo: 'r', repoURL: 'https://git.example.com/org/repo', rule: 'AWS Access Key', commitMessage: 'm', author: 'a', email: 'e', file: 'f.py', date: 'd', tags: 'key, AWS' }]))
    const r = parseWith(gitleaks, d)
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'REPOSITORY', attributes: { repository: 'https://git.example.com/org/repo' } }])
    expect(r.findings[0]!.tags).toEqual(['key', 'AWS'])
  })

  it('malformed input → ScanFormatError', () => {
    rejects(gitleaks, '{"leaks": []}', /array/)
    rejects(gitleaks, '[{"foo": 1}]', /neither Gitleaks layout/)
    rejects(gitleaks, '[{"rule": "x", "offender": "y"}]', /no "file"/)
  })
})

describe('trufflehog', () => {
  it('v3 (GitHub source): severity, CWE, path, line, REPOSITORY asset, merged duplicates', () => {
    const r = parseFile(trufflehog, 'trufflehog/v3_github.json')
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Hard Coded AWS secret in: keys', severity: 'critical', cwe: [798], location: { path: 'keys', line: 4 } })
    expect(f.tags).toEqual(['verified'])
    expect(f.description).not.toContain('AKIAYVP4CIPPERUVIFXG')
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'REPOSITORY', attributes: { repository: 'https://github.com/trufflesecurity/test_keys.git' } }])
  })

  it('v2 JSON lines: merged by path + reason; High Entropy is info', () => {
    const r = parseFile(trufflehog, 'trufflehog/v2_many_vulns.json')
    expect(r.findings).toHaveLength(18)
    expect(r.findings.reduce((n, f) => n + (f.occurrences ?? 1), 0)).toBe(64)
    const single = parseFile(trufflehog, 'trufflehog/trufflehog.json')
    expect(single.findings[0]).toMatchObject({ title: 'Hard Coded High Entropy in: settings.py', severity: 'info' })
    expect(single.assets[0]).toMatchObject({ type: 'CODE', attributes: { scannerSource: 'trufflehog.json' } })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(trufflehog, '{"foo": 1}\n{"bar": 2}', /neither TruffleHog v3/)
    rejects(trufflehog, '{"SourceMetadata": {}, "DetectorName": "AWS"}\n{"foo": 1}', /line 2 is not a TruffleHog v3 record/)
    rejects(trufflehog, '[{"path": "a", "reason": "b"}]', /trufflehog3/)
  })
})

describe('trufflehog3', () => {
  it('legacy layout: title, severity, CWE, path', () => {
    const r = parseFile(trufflehog3, 'trufflehog3/many_vulns2_legacy.json')
    expect(r.findings[0]).toMatchObject({ title: 'Hard Coded High entropy in: test_all.py', severity: 'high', cwe: [798], location: { path: 'test_all.py' } })
    expect(r.assets[0]).toMatchObject({ type: 'CODE', attributes: { scannerSource: 'many_vulns2_legacy.json' } })
  })

  it('current layout: rule message title, rule severity, line, stable id, masked secret', () => {
    const r = parseFile(trufflehog3, 'trufflehog3/many_vulns_current.json')
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'High Entropy found in docker/Dockerfile', severity: 'high', scannerSeverity: 'HIGH', ruleId: 'high-entropy', location: { path: 'docker/Dockerfile', line: 3 } })
    expect(f.uniqueId).toBe('6ac0ab3b-5f34-3d2a-886c-08424de77b23')
    expect(f.description).not.toContain('964a1afa20dd4a3723002560124dd96f2a9e853f7ef5b86f5c2354af336fca37')
    expect(parseFile(trufflehog3, 'trufflehog3/issue_6999.json').findings[0]!.severity).toBe('medium')
  })

  it('malformed input → ScanFormatError', () => {
    rejects(trufflehog3, '{"results": []}', /array/)
    rejects(trufflehog3, '[{"foo": 1}]', /neither trufflehog3 layout/)
  })
})

describe('nuclei', () => {
  it('many_findings_new: title, severity, template id, CWE, CVSS, CVE, location, WEB asset', () => {
    const r = parseFile(nuclei, 'nuclei/many_findings_new.json')
    const [a, b] = r.findings
    expect(a).toMatchObject({ title: 'OpenSSH Username Enumeration v7.7', severity: 'medium', ruleId: 'CVE-2018-15473', cwe: [362], vulnerabilityIds: ['CVE-2018-15473'] })
    expect(a!.cvss).toEqual({ vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N', score: 5.3, version: '3.0' })
    expect(a!.location).toMatchObject({ path: 'nuclei-example.com:22', port: 22, protocol: 'network' })
    expect(a!.description).toContain('SSH-2.0-OpenSSH_7.4p1')
    expect(b).toMatchObject({ title: 'Exposed Prometheus metrics', severity: 'low', ruleId: 'prometheus-metrics' })
    expect(r.assets).toEqual([{ key: a!.assetKey, type: 'WEB', attributes: { url: 'https://nuclei-example.com', fqdn: 'nuclei-example.com', ip: '127.0.0.1' } }])
  })

  it('multiple_v3 (JSON array): merges repeated template + matcher + host; info severity', () => {
    const r = parseFile(nuclei, 'nuclei/multiple_v3.json')
    expect(r.findings[0]!.severity).toBe('info')
    expect(r.findings.find((f) => f.ruleId === 'tls-version')?.occurrences).toBe(2)
    expect(r.assets).toHaveLength(1)
  })

  it('an invalid CWE is ignored; many_findings merges to 16; URL locations', () => {
    expect(parseFile(nuclei, 'nuclei/invalid_cwe.json').findings[0]!.cwe).toBeUndefined()
    const r = parseFile(nuclei, 'nuclei/many_findings.json')
    expect(r.findings).toHaveLength(16)
    const web = r.findings.find((f) => f.ruleId === 'phpmyadmin-setup')!
    expect(web.location).toMatchObject({ url: 'https://nuclei-example.com/phpmyadmin/setup/index.php', protocol: 'https' })
    expect(parseFile(nuclei, 'nuclei/multi_cwe_fabricated.json').findings[0]!.cwe).toEqual([79, 89])
  })

  it('results without a target join the report\'s host', () => {
    const r = parseFile(nuclei, 'nuclei/issue_14071.json')
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'WEB', attributes: { url: 'http://dvwa_dvwa_1', fqdn: 'dvwa_dvwa_1', ip: '172.18.0.3' } }])
    expect(r.findings[0]!.location?.method).toBe('POST')
  })

  it('malformed input → ScanFormatError', () => {
    rejects(nuclei, '{"template-id": "x", "type": "http"}\n{"template-id": "y", "info": {"name": "n", "severity": "low"}}', /no "info" object/)
    rejects(nuclei, '[1]', /not an object/)
  })
})

describe('detection', () => {
  it('npm 6, audit-ci (yarn) and pnpm share the advisories envelope but are told apart', () => {
    expect(detectAmong(PARSERS, corpusDocument('npm_audit/multiple_cwes2.json'))).toBe('npm_audit')
    expect(detectAmong(PARSERS, corpusDocument('yarn_audit/issue_6495.json'))).toBe('yarn_audit')
    expect(detectAmong(PARSERS, corpusDocument('pnpm_audit/pnpm_audit_no_vuln.json'))).toBe('pnpm_audit')
    expect(detectAmong(PARSERS, corpusDocument('npm_audit/no_vuln.json'))).toBe('npm_audit')
  })

  it('trufflehog v2 lines vs trufflehog3 legacy arrays; gitleaks legacy vs trufflehog3 current', () => {
    expect(detectAmong(PARSERS, corpusDocument('trufflehog/v2_many_vulns.json'))).toBe('trufflehog')
    expect(detectAmong(PARSERS, corpusDocument('trufflehog3/many_vulns_legacy.json'))).toBe('trufflehog3')
    expect(detectAmong(PARSERS, corpusDocument('gitleaks/data_one.json'))).toBe('gitleaks')
    expect(detectAmong(PARSERS, corpusDocument('trufflehog3/issue_6999.json'))).toBe('trufflehog3')
  })

  it('claims nothing of an unrelated document', () => {
    const other = doc('{"SchemaVersion": 2, "ArtifactType": "container_image", "Results": []}')
    for (const p of PARSERS) expect(p.detect(other)).toBe(0)
    const sarif = doc('{"version": "2.1.0", "runs": []}')
    for (const p of PARSERS) expect(p.detect(sarif)).toBe(0)
  })
})

describe('helpers', () => {
  it('looseHost / loosePort read URLs and bare host:port', () => {
    expect(looseHost('https://User@Example.com:8443/a?b')).toBe('example.com')
    expect(looseHost('example.com:22')).toBe('example.com')
    expect(looseHost('[::1]:80')).toBe('::1')
    expect(looseHost('')).toBe('')
    expect(loosePort('example.com:22')).toBe(22)
    expect(loosePort('https://example.com/x')).toBeUndefined()
  })

  it('npmCwes reads every npm CWE shape', () => {
    expect(npmCwes(null)).toEqual([1035])
    expect(npmCwes('CWE-79')).toEqual([79])
    expect(npmCwes('["CWE-79","CWE-89"]')).toEqual([79, 89])
    expect(npmCwes([])).toEqual([1035])
    expect(npmCwes('[]')).toEqual([1035])
  })
})
