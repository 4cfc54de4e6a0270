/**
 * SAST / IaC parsers: SARIF, Semgrep (+ Pro), Checkov, KICS, tfsec, Bandit.
 *
 * Asset type choice: CODE for all of them (scannerSource = the scanned root when the report names it — SARIF
 * versionControlProvenance / SRCROOT, Checkov's absolute paths — else the report's file name). IaC templates are
 * source files in a repository, not build manifests, so CODE rather than BUILD. Semgrep Pro and Semgrep Supply
 * Chain API exports name their repository, so they use REPOSITORY.
 */
import { describe, expect, it } from 'vitest'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { parser as bandit } from '../../../src/modules/scans/parsers/bandit.js'
import { parser as checkov } from '../../../src/modules/scans/parsers/checkov.js'
import { parser as kics } from '../../../src/modules/scans/parsers/kics.js'
import { parser as sarif } from '../../../src/modules/scans/parsers/sarif.js'
import { parser as semgrep } from '../../../src/modules/scans/parsers/semgrep.js'
import { parser as semgrepPro } from '../../../src/modules/scans/parsers/semgrep_pro.js'
import { parser as tfsec } from '../../../src/modules/scans/parsers/tfsec.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS = [sarif, semgrep, semgrepPro, checkov, kics, tfsec, bandit]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

function parseFile(parser: ScannerParser, file: string) {
  return parseWith(parser, corpusDocument(file))
}

function json(value: unknown, filename = 'report.json') {
  return loadDocument(filename, JSON.stringify(value))
}

function expectFormatError(parser: ScannerParser, value: unknown, message?: RegExp) {
  const doc = json(value)
  let error: unknown
  try {
    parseWith(parser, doc)
  } catch (err) {
    error = err
  }
  expect(error, 'parse should throw').toBeInstanceOf(ScanFormatError)
  if (message) expect((error as Error).message).toMatch(message)
}

describe('sarif', () => {
  it('appendix_k3: title from the message, logical location only', () => {
    const r = parseFile(sarif, 'sarif/appendix_k3.sarif')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.title).toBe('The insecure method "Crypto.Sha1.Encrypt" should not be used.')
    expect(r.findings[0]!.severity).toBe('medium')
    expect(r.findings[0]!.ruleId).toBe('B6412')
    expect(r.findings[0]!.location).toBeUndefined()
  })

  it('blackduck: nested fingerprints → uniqueId, level → severity, CVE from the rule id, component', () => {
    const r = parseFile(sarif, 'sarif/blackduck_nested_fingerprints.sarif')
    const [f0, f1] = r.findings
    expect(f0!.severity).toBe('medium')
    expect(f0!.uniqueId).toBe('a'.repeat(64))
    expect(f0!.vulnerabilityIds).toEqual(['CVE-2020-11022'])
    expect(f0!.cwe).toEqual([79])
    expect(f0!.component).toEqual({ name: 'example-frontend-lib', version: '1.0.0' })
    expect(f0!.remedy).toBe('Upgrade/patch dependency: example-frontend-lib 1.0.0.')
    expect(f1!.severity).toBe('high')
    expect(f1!.uniqueId).toBe('b'.repeat(64))
    // asset: no repository in the report → CODE named after the file
    expect(r.assets).toEqual([{ key: f0!.assetKey, type: 'CODE', attributes: { scannerSource: 'blackduck_nested_fingerprints.sarif' } }])
  })

  it('njsscan: one finding per location, CWE from result properties', () => {
    const r = parseFile(sarif, 'sarif/njsscan.sarif')
    expect(r.findings).toHaveLength(3)
    expect(r.findings[0]!.location?.path).toBe('file:///src/index.js')
    expect(r.findings[0]!.cwe?.[0]).toBe(327)
    expect(r.findings[1]!.location).toEqual({ path: 'file:///src/index.js', line: 235 })
    expect(r.findings[1]!.cwe?.[0]).toBe(798)
    expect(r.findings[2]!.location?.line).toBe(239)
    expect(r.findings[1]!.title).toBe(r.findings[2]!.title)
  })

  it('semgrep SARIF sample: 1768 findings, first path', () => {
    const r = parseFile(sarif, 'sarif/semgrepowasp-benchmark-sample.sarif')
    expect(r.findings[0]!.location?.path).toBe('src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02660.java')
  })

  it('suppressions → false positive, others active', () => {
    const r = parseFile(sarif, 'sarif/suppression_test.sarif')
    for (const f of r.findings) {
      if (f.title === 'Suppressed') expect(f.status).toBe('false_positive')
      else expect(f.status ?? 'active').toBe('active')
    }
    expect(r.findings.filter((f) => f.status === 'false_positive')).toHaveLength(3)
  })

  it('security-severity overrides the level (Grype)', () => {
    const r = parseFile(sarif, 'sarif/cxf-3.4.6.sarif')
    expect(r.findings).toHaveLength(22)
    expect(r.findings[0]!.severity).toBe('low')
    expect(r.findings[0]!.cvss?.score).toBe(2.1)
    expect(r.findings[6]!.severity).toBe('high')
    expect(r.findings[6]!.cvss?.score).toBe(7.8)
  })

  it('partialFingerprints sorted into uniqueId, note → info (bash report)', () => {
    const r = parseFile(sarif, 'sarif/bash-report.sarif')
    expect(r.findings).toHaveLength(27)
    const f = r.findings[6]!
    expect(f.title).toBe('Decimals are not supported. Either use integers only, or use bc or awk to compare.')
    expect(f.severity).toBe('info')
    expect(f.uniqueId).toBe('scanFileHash:5b05533780915bfc|scanPrimaryLocationHash:4d655189c485c086')
    expect(f.vulnerabilityIds).toBeUndefined()
    // the run's versionControlProvenance names the repository
    expect(r.assets).toHaveLength(1)
    expect(r.assets[0]!.type).toBe('CODE')
    expect(r.assets[0]!.attributes.repository).toBe('https://github.com/damiencarol/django-DefectDojo')
  })

  it('title shortened like textwrap.shorten, CVE id from the rule (dependency-check)', () => {
    const r = parseFile(sarif, 'sarif/dependency_check.sarif')
    expect(r.findings).toHaveLength(13)
    expect(r.findings[6]!.title).toBe('CVE-2019-11358 - jQuery before 3.4.0, as used in Drupal, Backdrop CMS, and other products, mishandles jQuery.extend(true, {}, ...) because of [...]')
    expect(r.findings[6]!.severity).toBe('high')
    expect(r.findings[6]!.vulnerabilityIds).toEqual(['CVE-2019-11358'])
  })

  it('flawfinder: fingerprints, CWE from tags, helpUri reference; kind pass skipped', () => {
    const r = parseFile(sarif, 'sarif/flawfinder.sarif')
    expect(r.findings).toHaveLength(53)
    const f = r.findings[0]!
    expect(f.cwe?.[0]).toBe(327)
    expect(f.ruleId).toBe('FF1048')
    expect(f.uniqueId).toBe('e6c1ad2b1d96ffc4035ed8df070600566ad240b8ded025dac30620f3fd4aa9fd')
    expect(f.references).toEqual(['https://cwe.mitre.org/data/definitions/327.html'])
    expect(f.location).toEqual({ path: 'src/tree/param.cc', line: 29 })
    expect(r.findings[20]!.severity).toBe('info')
  })

  it('appendix_k4: fixes → remedy; code flow in the description', () => {
    const r = parseFile(sarif, 'sarif/appendix_k4.sarif')
    expect(r.findings[0]!.remedy).toBe('Initialize the variable to null')
    expect(r.findings[0]!.ruleId).toBe('C2001')
    const k = parseFile(sarif, 'sarif/appendix_k.sarif')
    expect(k.findings[0]!.description).toContain('Code flow:')
    expect(k.findings[0]!.location).toEqual({ path: 'collections/list.h', line: 15 })
  })

  it('several locations of one fingerprinted result keep distinct uniqueIds', () => {
    const doc = json({
      version: '2.1.0',
      runs: [{
        tool: { driver: { name: 'T', rules: [{ id: 'R1', properties: { tags: ['external/cwe/cwe-89'], 'security-severity': '9.8' } }] } },
        results: [{
          ruleId: 'R1', message: { text: 'SQL injection' }, fingerprints: { 'hash/v1': 'x', 'hash/v2': 'y' },
          locations: [
            { physicalLocation: { artifactLocation: { uri: 'a.py' }, region: { startLine: 3 } } },
            { physicalLocation: { artifactLocation: { uri: 'b.py' }, region: { startLine: 4 } } },
          ],
        }],
      }],
    }, 'x.sarif')
    const r = parseWith(sarif, doc)
    expect(r.findings).toHaveLength(2)
    expect(r.findings.map((f) => f.uniqueId)).toEqual(['y#a.py:3', 'y#b.py:4'])
    expect(r.findings[0]!.severity).toBe('critical')
    expect(r.findings[0]!.cwe).toEqual([89])
    expect(r.findings[0]!.tags).toEqual(['cwe-89'])
  })

  it('detection is capped at 0.6 (generic format)', () => {
    expect(sarif.detect(corpusDocument('sarif/codeQL-output.sarif'))).toBeLessThanOrEqual(0.6)
    expect(sarif.detect(corpusDocument('sarif/codeQL-output.sarif'))).toBeGreaterThan(0)
    expect(sarif.detect(corpusDocument('semgrep/many_vulns.json'))).toBe(0)
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(sarif, { version: '2.1.0' }, /runs/)
    expectFormatError(sarif, { version: '2.1.0', runs: {} }, /runs/)
    expectFormatError(sarif, { version: '2.1.0', runs: [{ results: [] }] }, /tool/)
    expectFormatError(sarif, { version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: 'nope' }] }, /results/)
    expectFormatError(sarif, { version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [1] }] }, /not an object/)
    expectFormatError(sarif, [1, 2])
  })
})

describe('semgrep', () => {
  it('many_findings: severities, path/line, CWE, fix → remedy, rule id', () => {
    const r = parseFile(semgrep, 'semgrep/many_findings.json')
    const f0 = r.findings[0]!
    expect(f0.severity).toBe('medium')
    expect(f0.location).toMatchObject({ path: 'src/main/java/org/owasp/benchmark/testcode/BenchmarkTest02194.java', line: 64 })
    expect(f0.cwe).toEqual([696])
    expect(f0.remedy).toBe('javax crypto Cipher.getInstance("AES/GCM/NoPadding");')
    expect(f0.ruleId).toBe('java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle')
    expect(f0.title).toBe('java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle')
    const f2 = r.findings[2]!
    expect(f2.severity).toBe('low')
    expect(f2.location).toMatchObject({ path: 'src/main/java/org/owasp/benchmark/testcode/BenchmarkTest01150.java', line: 66 })
    expect(r.assets).toEqual([{ key: f0.assetKey, type: 'CODE', attributes: { scannerSource: 'many_findings.json' } }])
  })

  it('repeated findings are merged with occurrences', () => {
    const r = parseFile(semgrep, 'semgrep/repeated_findings.json')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.occurrences).toBe(2)
    expect(r.findings[0]!.severity).toBe('medium')
    expect(r.findings[0]!.cwe).toEqual([696])
    expect(r.findings[0]!.location).toMatchObject({ path: 'src/main/java/org/owasp/benchmark/testcode/BenchmarkTest01150.java', line: 66 })
  })

  it('many_vulns and cwe_list field facts', () => {
    const m = parseFile(semgrep, 'semgrep/many_vulns.json')
    expect(m.findings[0]!.severity).toBe('high')
    expect(m.findings[0]!.location).toMatchObject({ path: 'tasks.py', line: 186 })
    expect(m.findings[0]!.ruleId).toBe('python.lang.correctness.tempfile.flush.tempfile-without-flush')
    expect(m.findings[2]!.severity).toBe('medium')
    expect(m.findings[2]!.location).toMatchObject({ path: 'utils.py', line: 503 })
    const c = parseFile(semgrep, 'semgrep/cwe_list.json')
    expect(c.findings[0]!.severity).toBe('low')
    expect(c.findings[0]!.location).toMatchObject({ path: 'index.js', line: 12 })
    expect(c.findings[0]!.cwe?.[0]).toBe(352)
    expect(c.findings[0]!.ruleId).toMatch(/^javascript\.express\.security\.audit\.express-check-csurf-middleware-usage/)
    expect(c.findings[0]!.description).toContain('const app = express();')
  })

  it('fingerprints stable across line shifts; "requires login" is no fingerprint', () => {
    const a = parseFile(semgrep, 'semgrep/semgrep_version_1_30_0_line_26.json')
    const b = parseFile(semgrep, 'semgrep/semgrep_version_1_30_0_line_27.json')
    expect(a.findings.length).toBe(b.findings.length)
    expect(a.findings.map((f) => f.uniqueId)).toEqual(b.findings.map((f) => f.uniqueId))
    expect(a.findings.every((f) => typeof f.uniqueId === 'string')).toBe(true)
    const fp = parseFile(semgrep, 'semgrep/fingerprint_test.json')
    expect(fp.findings).toHaveLength(2)
    expect(fp.findings.every((f) => f.uniqueId === undefined)).toBe(true)
  })

  it('Supply Chain export: advisory fields, component, fix version, REPOSITORY asset, triage', () => {
    const r = parseFile(semgrep, 'semgrep/sca-deployments-vulns.json')
    expect(r.findings).toHaveLength(18)
    const f = r.findings[0]!
    expect(f.title).toBe('Reachable Assertion in grpc')
    expect(f.severity).toBe('high')
    expect(f.location).toEqual({ path: 'requirements3.txt', line: 222 })
    expect(f.cwe).toEqual([617])
    expect(f.vulnerabilityIds).toEqual(['CVE-2023-1428', 'GHSA-6628-q6j9-w8vg'])
    expect(f.component).toEqual({ name: 'grpcio', version: '1.47.0', ecosystem: 'gem' })
    expect(f.fixVersion).toBe('1.53.0')
    const asset = r.assets.find((a) => a.key === f.assetKey)!
    expect(asset).toEqual({ key: f.assetKey, type: 'REPOSITORY', attributes: { repository: 'example/rfv' } })
    expect(r.findings.some((x) => x.status === 'mitigated')).toBe(true)
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(semgrep, { results: {}, errors: [] }, /results/)
    expectFormatError(semgrep, { results: [{ path: 'a.py', extra: {} }], errors: [] }, /check_id/)
    expectFormatError(semgrep, { results: [{ check_id: 'x', path: 'a.py' }], errors: [] }, /extra/)
    expectFormatError(semgrep, { vulns: [{ title: 'x' }] }, /advisory/)
    expectFormatError(semgrep, { something: [] }, /results/)
  })
})

describe('semgrep_pro', () => {
  it('one_vuln: fields, REPOSITORY asset, uniqueId', () => {
    const r = parseFile(semgrepPro, 'semgrep_pro/one_vuln.json')
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f.title).toBe('typescript.react.security.audit.react-no-refs.react-no-refs')
    expect(f.severity).toBe('medium')
    expect(f.location).toMatchObject({ path: 'frontend/src/corpComponents/Code.tsx', line: 120, endLine: 124 })
    expect(f.cwe).toEqual([319])
    expect(f.uniqueId).toMatch(/^0f8c79a6/)
    expect(f.remedy).toContain('Use a template rendering engine')
    expect(f.status ?? 'active').toBe('active')
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'REPOSITORY', attributes: { repository: 'https://github.com/semgrep/semgrep' } }])
  })

  it('multiple CWEs kept, first one primary', () => {
    const r = parseFile(semgrepPro, 'semgrep_pro/multiple_cwes_fabricated.json')
    expect(r.findings[0]!.cwe).toEqual([319, 311])
  })

  it('status: fixed → mitigated, ignored false positive → false_positive; merged by match_based_id', () => {
    const base = { rule_name: 'r', severity: 'high', location: { file_path: 'a.js', line: 1 } }
    const r = parseWith(semgrepPro, json({ findings: [
      { ...base, match_based_id: 'm1', status: 'fixed' },
      { ...base, match_based_id: 'm2', triage_state: 'ignored', triage_reason: 'false_positive' },
      { ...base, match_based_id: 'm2', triage_state: 'ignored', triage_reason: 'false_positive' },
    ] }))
    expect(r.findings).toHaveLength(2)
    expect(r.findings[0]!.status).toBe('mitigated')
    expect(r.findings[1]!.status).toBe('false_positive')
    expect(r.findings[1]!.occurrences).toBe(2)
    expect(r.findings[0]!.severity).toBe('high')
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(semgrepPro, { findings: 'x' }, /findings/)
    expectFormatError(semgrepPro, { findings: [{ rule_name: 'x', location: 'nowhere' }] }, /location/)
    expectFormatError(semgrepPro, { results: [] }, /findings/)
  })
})

describe('checkov', () => {
  it('multiple check types: fields of findings[0] and [11]', () => {
    const r = parseFile(checkov, 'checkov/checkov-report-multiple-check_type.json')
    expect(r.findings).toHaveLength(13)
    const f0 = r.findings[0]!
    expect(f0.severity).toBe('medium')
    expect(f0.location).toMatchObject({ path: '/aws/db-app.tf', line: 1 })
    expect(f0.component).toEqual({ name: 'aws_db_instance.default' })
    expect(f0.remedy).toBeUndefined()
    expect(f0.ruleId).toBe('CKV_AWS_161')
    const f11 = r.findings[11]!
    expect(f11.severity).toBe('medium')
    expect(f11.location?.path).toBe('/aws/resources/Dockerfile')
    expect(f11.location?.line).toBeUndefined() // Checkov writes line 0 for whole-file checks
    expect(f11.component).toEqual({ name: '/aws/resources/Dockerfile.' })
    expect(f11.description).toContain('Check Type: dockerfile')
    // scanned root derived from file_abs_path − file_path
    expect(r.assets).toEqual([{ key: f0.assetKey, type: 'CODE', attributes: { scannerSource: '/infra/terraform' } }])
  })

  it('severity from the report when present', () => {
    const r = parseFile(checkov, 'checkov/checkov-report-severity.json')
    expect(r.findings.map((f) => f.severity).slice(0, 2)).toEqual(['medium', 'medium'])
    expect(new Set(r.findings.map((f) => f.severity))).toEqual(new Set(['low', 'medium', 'high']))
  })

  it('guideline → reference', () => {
    const r = parseFile(checkov, 'checkov/checkov-report-1-vuln.json')
    expect(r.findings[0]!.title).toBe('Ensure the key vault is recoverable')
    expect(r.findings[0]!.references).toEqual(['https://docs.bridgecrew.io/docs/ensure-the-key-vault-is-recoverable'])
    expect(r.findings[0]!.location).toEqual({ path: 'file_path', line: 1, endLine: 16 })
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(checkov, { check_type: 'terraform', results: { failed_checks: {} } }, /failed_checks/)
    expectFormatError(checkov, { check_type: 'terraform', results: [] }, /results/)
    expectFormatError(checkov, [{ check_type: 'terraform', results: { failed_checks: [] } }, 'x'], /object/)
    expectFormatError(checkov, { foo: 1 }, /check_type/)
  })
})

describe('kics', () => {
  it('many_findings: title, severity, path/line, remedy, ids', () => {
    const r = parseFile(kics, 'kics/many_findings.json')
    expect(r.findings).toHaveLength(18)
    const f = r.findings[0]!
    expect(f.title).toBe('Secret Management: Passwords And Secrets In Infrastructure Code')
    expect(f.severity).toBe('high')
    expect(f.location).toEqual({ path: 'test/charts/example/terraform/main.tf', line: 25 })
    expect(f.remedy).toBe('Hardcoded secret key should not appear in source')
    expect(f.ruleId).toBe('f996f3cb-00fc-480c-8973-8ab04d44a8cc')
    expect(f.uniqueId).toBe('70d28c075a7cda7f4b6b4a9b7f5c48a7d2213c8a4fc1332b8eabd5805a8f177a')
    expect(f.references).toEqual(['https://kics.io/'])
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CODE', attributes: { scannerSource: 'many_findings.json' } }])
  })

  it('duplicate entries merged', () => {
    const file = { file_name: 'a.tf', line: 3, issue_type: 'MissingAttribute', expected_value: 'x', similarity_id: 's' }
    const r = parseWith(kics, json({ kics_version: '1', queries: [{ query_name: 'Q', severity: 'CRITICAL', platform: 'Terraform', category: 'C', files: [file, file] }] }))
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.occurrences).toBe(2)
    expect(r.findings[0]!.severity).toBe('critical')
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(kics, { queries: 'x' }, /queries/)
    expectFormatError(kics, { files_scanned: 1 }, /queries/)
    expectFormatError(kics, { queries: [{ query_name: 'q', files: {} }] }, /files/)
  })
})

describe('tfsec', () => {
  it('current format: fields of findings[0]', () => {
    const r = parseFile(tfsec, 'tfsec/many_findings_current.json')
    const f = r.findings[0]!
    expect(f.title).toBe('An ingress Network ACL rule allows ALL ports.')
    expect(f.severity).toBe('critical')
    expect(f.remedy).toBe('Set specific allowed ports')
    expect(f.location).toEqual({ path: '/tmp/aws-eks/modules/vpc-subnets/resources.tf', line: 155 })
    expect(f.ruleId).toBe('aws-vpc-no-excessive-port-access')
    expect(f.references?.length).toBe(3)
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CODE', attributes: { scannerSource: 'many_findings_current.json' } }])
  })

  it('legacy format: passed checks skipped, link → reference, WARNING → medium', () => {
    const r = parseFile(tfsec, 'tfsec/many_findings_legacy.json')
    expect(r.findings).toHaveLength(3)
    const one = parseFile(tfsec, 'tfsec/one_finding_legacy.json').findings[0]!
    expect(one.severity).toBe('medium')
    expect(one.references).toEqual(['https://tfsec.dev/docs/general/GEN003/'])
    expect(one.ruleId).toBe('GEN003')
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(tfsec, { foo: [] }, /results/)
    expectFormatError(tfsec, { results: [{ rule_description: 'x', location: {} }] }, /rule_id/)
    expectFormatError(tfsec, { results: [{ rule_id: 'x', location: 'a.tf' }] }, /location/)
  })
})

describe('bandit', () => {
  it('dd.json: fields of findings[0]', () => {
    const r = parseFile(bandit, 'bandit/dd.json')
    const f = r.findings[0]!
    expect(f.title).toBe('Use of insecure MD2, MD4, MD5, or SHA1 hash function.')
    expect(f.severity).toBe('medium')
    expect(f.location).toEqual({ path: 'dojo/tools/acunetix/parser.py', line: 39 })
    expect(f.ruleId).toBe('blacklist:B303')
    expect(f.references).toEqual(['https://bandit.readthedocs.io/en/latest/blacklists/blacklist_calls.html#b303-md5'])
    expect(f.extra).toEqual({ confidence: 'HIGH' })
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CODE', attributes: { scannerSource: 'dd.json' } }])
  })

  it('issue_cwe → CWE', () => {
    const r = parseWith(bandit, json({ generated_at: 'x', metrics: {}, results: [{ issue_text: 't', test_id: 'B101', test_name: 'assert_used', issue_severity: 'LOW', issue_confidence: 'HIGH', filename: 'a.py', line_number: 2, issue_cwe: { id: 703, link: 'https://cwe.mitre.org/data/definitions/703.html' } }] }))
    expect(r.findings[0]!.cwe).toEqual([703])
    expect(r.findings[0]!.severity).toBe('low')
  })

  it('malformed input → ScanFormatError', () => {
    expectFormatError(bandit, { generated_at: 'x', metrics: {} }, /results/)
    expectFormatError(bandit, { results: [{ test_id: 'B1' }] }, /issue_text/)
    expectFormatError(bandit, { results: 5 }, /results/)
  })
})

describe('detection across the group', () => {
  it('each corpus family goes to its own parser, empty reports included', () => {
    expect(detectAmong(PARSERS, corpusDocument('semgrep/empty.json'))).toBe('semgrep')
    expect(detectAmong(PARSERS, corpusDocument('bandit/no_vuln.json'))).toBe('bandit')
    expect(detectAmong(PARSERS, corpusDocument('tfsec/no_findings.json'))).toBe('tfsec')
    expect(detectAmong(PARSERS, corpusDocument('kics/no_findings.json'))).toBe('kics')
    expect(detectAmong(PARSERS, corpusDocument('checkov/checkov2-report-0-vuln.json'))).toBe('checkov')
    expect(detectAmong(PARSERS, corpusDocument('semgrep_pro/no_vuln.json'))).toBe('semgrep_pro')
    expect(detectAmong(PARSERS, corpusDocument('sarif/issue_10191.json'))).toBe('sarif')
  })
})
