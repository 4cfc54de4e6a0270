import { describe, expect, it } from 'vitest'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { parser as trivy } from '../../../src/modules/scans/parsers/trivy.js'
import { parser as trivyOperator, uniformVulnId } from '../../../src/modules/scans/parsers/trivy_operator.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [trivy, trivyOperator]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

const parseFile = (p: ScannerParser, file: string) => parseWith(p, corpusDocument(file))
const doc = (text: string, name = 'report.json') => loadDocument(name, text)
const rejects = (p: ScannerParser, value: unknown, message?: RegExp) => {
  const d = doc(JSON.stringify(value))
  expect(() => parseWith(p, d)).toThrow(ScanFormatError)
  if (message) expect(() => parseWith(p, d)).toThrow(message)
}

describe('trivy: counts DefectDojo asserts beyond the manifest', () => {
  it.each([
    ['trivy/scheme_2_many_vulns.json', 5],
    ['trivy/misconfigurations_and_secrets.json', 5],
    ['trivy/kubernetes.json', 20],
    ['trivy/license_scheme.json', 19],
    ['trivy/issue_9170.json', 37],
    ['trivy/issue_9263.json', 1],
    ['trivy/issue_9333.json', 13],
    ['trivy/all_statuses.json', 8],
    ['trivy/cvss_severity_source.json', 2],
    ['trivy/cvssv4_severity_source.json', 3],
  ])('%s → %i', (file, n) => {
    expect(parseFile(trivy, file).findings).toHaveLength(n)
  })
})

describe('trivy: legacy list', () => {
  it('legacy_many_vulns: severity, CVE, CWE, component; the OS target names the image', () => {
    const r = parseFile(trivy, 'trivy/legacy_many_vulns.json')
    const f = r.findings[0]!
    expect(f.title).toBe('CVE-2011-3374 apt 1.8.2.2')
    expect(f.severity).toBe('low')
    expect(f.scannerSeverity).toBe('LOW')
    expect(f.vulnerabilityIds).toEqual(['CVE-2011-3374'])
    expect(f.cwe).toEqual([347])
    expect(f.component).toMatchObject({ name: 'apt', version: '1.8.2.2' })
    expect(r.assets).toEqual([{ key: f.assetKey, type: 'CONTAINER', attributes: { image: 'debian', os: 'debian 10.8' } }])
  })

  it('legacy_trivy_mix: a vulnerability without severity is skipped (with a warning) like DefectDojo', () => {
    const r = parseFile(trivy, 'trivy/legacy_trivy_mix.json')
    expect(r.findings).toHaveLength(6)
    expect(r.warnings.join()).toMatch(/1 vulnerability without PkgName or severity skipped/)
  })
})

describe('trivy: SchemaVersion 2', () => {
  it('scheme_2_many_vulns: fields of the first two findings', () => {
    const r = parseFile(trivy, 'trivy/scheme_2_many_vulns.json')
    const [f0, f1] = r.findings
    expect(f0).toMatchObject({
      title: 'CVE-2020-15999 freetype 2.9.1-r2',
      severity: 'medium',
      vulnerabilityIds: ['CVE-2020-15999'],
      cwe: [787],
      component: { name: 'freetype', version: '2.9.1-r2', ecosystem: 'alpine' },
      location: { path: 'app/libs/freetype-2.9.1-r2' },
      fixVersion: '2.9.1-r3',
      cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', score: 6.5, version: '3.1' },
      tags: ['alpine', 'os-pkgs'],
    })
    expect(f0!.references?.[0]).toBe('https://avd.aquasec.com/nvd/cve-2020-15999')
    expect(f0!.description).toContain('Heap buffer overflow in Freetype')
    expect(f0!.remedy).toBe('Upgrade freetype to version 2.9.1-r3 or later.')
    expect(f1).toMatchObject({ title: 'CVE-2020-28196 krb5-libs 1.15.5-r0', severity: 'high', cwe: [674], fixVersion: '1.15.5-r1' })
    expect(r.assets).toEqual([{ key: f0!.assetKey, type: 'CONTAINER', attributes: { image: 'teamdojo:latest', os: 'alpine 3.9.4' } }])
  })

  it('severity_prio: Trivy severity wins over CVSS; CVSS from SeveritySource, else nvd', () => {
    const [f0, f1] = parseFile(trivy, 'trivy/severity_prio.json').findings
    expect(f0).toMatchObject({ severity: 'low', cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N', score: 6.5 } })
    expect(f1).toMatchObject({ severity: 'critical', cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N', score: 7.5 } })
  })

  it('issue_9092: severity and file path of a lang-pkgs target; SBOM artifact → BUILD', () => {
    const r = parseFile(trivy, 'trivy/issue_9092.json')
    expect(r.findings[0]).toMatchObject({ severity: 'high', location: { path: 'requirements.txt' }, cwe: [345] })
    expect(r.assets[0]).toMatchObject({ type: 'BUILD', attributes: { buildFile: 'sbom.json' } })
  })

  it('issue_9263 / issue_9333: severities', () => {
    expect(parseFile(trivy, 'trivy/issue_9263.json').findings[0]!.severity).toBe('high')
    expect(parseFile(trivy, 'trivy/issue_9333.json').findings[0]!.severity).toBe('low')
  })

  it('cvssv4_severity_source: CVSS v4 from the ghsa entry', () => {
    const f = parseFile(trivy, 'trivy/cvssv4_severity_source.json').findings[0]!
    expect(f.cvss).toEqual({ vector: 'CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N', score: 6.3, version: '4.0' })
    expect(f.severity).toBe('medium')
    expect(f.location?.path).toBe('catalina.jar')
  })

  it('all_statuses: VEX not_affected → mitigated, the other statuses stay active', () => {
    const r = parseFile(trivy, 'trivy/all_statuses.json')
    const byStatus = new Map(r.findings.map((f) => [f.extra?.trivyStatus, f.status ?? 'active']))
    expect(byStatus.get('not_affected')).toBe('mitigated')
    for (const s of ['unknown', 'affected', 'fixed', 'under_investigation', 'will_not_fix', 'fix_deferred', 'end_of_life']) {
      expect(byStatus.get(s), s).toBe('active')
    }
    expect(r.findings.filter((f) => f.status === 'mitigated')).toHaveLength(1)
  })

  it('misconfigurations_and_secrets: misconfiguration and secret fields', () => {
    const r = parseFile(trivy, 'trivy/misconfigurations_and_secrets.json')
    const misconf = r.findings[2]!
    expect(misconf).toMatchObject({
      title: "DS002 - Image user should not be 'root'",
      severity: 'high',
      remedy: "Add 'USER <non root user name>' line to the Dockerfile",
      references: ['https://avd.aquasec.com/misconfig/ds002', 'https://docs.docker.com/develop/develop-images/dockerfile_best-practices/'],
      ruleId: 'DS002',
      location: { path: 'Dockerfile' },
    })
    expect(misconf.tags).toEqual(expect.arrayContaining(['config', 'dockerfile']))
    expect(misconf.description).toContain('Specify at least 1 USER command in Dockerfile with non-root user as argument')
    const secret = r.findings[3]!
    expect(secret).toMatchObject({
      title: 'Secret detected in Dockerfile - GitHub Personal Access Token',
      severity: 'critical',
      location: { path: 'Dockerfile', line: 24 },
      ruleId: 'github-pat',
      tags: ['secret'],
    })
    expect(secret.description).toBe('GitHub Personal Access Token\nCategory: GitHub\nMatch: ENV GITHUB_PAT=*****')
  })

  it('issue_14136: misconfiguration severity, lines, rule; misconfiguration-only filesystem → CODE', () => {
    const r = parseFile(trivy, 'trivy/issue_14136.json')
    expect(r.findings[0]).toMatchObject({
      title: 'AVD-AWS-0143 - IAM policies should not be granted directly to users.',
      severity: 'low',
      location: { path: '../../aws-credentials/main.tf', line: 20, endLine: 24 },
      ruleId: 'AVD-AWS-0143',
      remedy: 'Grant policies at the group level instead.',
    })
    expect(r.findings[0]!.description).toContain('resource "aws_iam_user" "this" {')
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'CODE', attributes: { scannerSource: 'tofu/clusters/sandbox' } }])
  })

  it('license_scheme: license findings', () => {
    const f = parseFile(trivy, 'trivy/license_scheme.json').findings[0]!
    expect(f.severity).toBe('high')
    expect(f.title).toBe('License detected in OS Packages - GPL-2.0')
    expect(f.description).toBe('GPL-2.0\nCategory: restricted\nPackage: alpine-baselayout')
    expect(f.extra).toMatchObject({ confidence: 1 })
  })

  it('secrets only (trivy fs .) → REPOSITORY; fs with lock files → BUILD per lock file', () => {
    const secrets = parseFile(trivy, 'trivy/juice_shop-trivy-report.json')
    expect(secrets.assets.map((a) => a.type)).toEqual(['REPOSITORY'])
    const sca = parseFile(trivy, 'trivy/k-client_trivy-report.json')
    expect(sca.assets).toEqual([{ key: 'BUILD|go.mod', type: 'BUILD', attributes: { buildFile: 'go.mod' } }])
  })
})

describe('trivy: Kubernetes layout', () => {
  it('kubernetes.json: vulnerability and misconfiguration of a workload; EKS cluster ARN → CLOUD', () => {
    const r = parseFile(trivy, 'trivy/kubernetes.json')
    const f0 = r.findings[0]!
    expect(f0).toMatchObject({
      title: 'CVE-2020-27350 apt 1.8.2.1',
      severity: 'medium',
      fixVersion: '1.8.2.2',
      vulnerabilityIds: ['CVE-2020-27350', 'DSA-4808-1'],
      component: { name: 'apt', version: '1.8.2.1' },
      location: { path: 'gcr.io/google_samples/gb-redis-follower:v2 (debian 10.4)' },
      tags: ['debian', 'os-pkgs'],
      extra: { service: 'default / Deployment / redis-follower' },
    })
    expect(r.findings[5]!.extra?.service).toBe('default / Deployment / redis-leader')
    const m = r.findings[10]!
    expect(m.title).toBe('KSV001 - Process can elevate its own privileges')
    expect(m.severity).toBe('medium')
    expect(m.remedy).toBe("Set 'set containers[].securityContext.allowPrivilegeEscalation' to 'false'.")
    expect(m.vulnerabilityIds).toBeUndefined()
    expect(m.component).toBeUndefined()
    expect(r.assets).toEqual([{
      key: f0.assetKey,
      type: 'CLOUD',
      attributes: { provider: 'aws', account: '576036489467', region: 'us-east-1', resource: 'arn:aws:eks:us-east-1:576036489467:cluster/monitoring-test-cluster' },
      tags: ['kubernetes'],
    }])
  })

  it('issue_9170: Resources layout, first finding; a plain cluster name → INFRA', () => {
    const r = parseFile(trivy, 'trivy/issue_9170.json')
    expect(r.findings[0]).toMatchObject({ severity: 'low', title: 'KSV116 - Runs with a root primary or supplementary GID' })
    expect(r.assets[0]).toMatchObject({ type: 'INFRA', attributes: { hostname: 'minikube' } })
  })
})

describe('trivy: detection and malformed input', () => {
  it('detects each layout and not trivy-operator files (and vice versa)', () => {
    expect(trivy.detect(corpusDocument('trivy/scheme_2_no_vuln.json'))).toBe(1)
    expect(trivy.detect(corpusDocument('trivy/kubernetes.json'))).toBe(1)
    expect(trivy.detect(corpusDocument('trivy/trivy_mix.json'))).toBeGreaterThan(0.5)
    expect(trivy.detect(corpusDocument('trivy_operator/findings_in_list.json'))).toBe(0)
    expect(trivyOperator.detect(corpusDocument('trivy/legacy_many_vulns.json'))).toBe(0)
    expect(trivy.detect(doc('{"results": []}'))).toBe(0)
    expect(trivy.detect(doc('[{"name": "x"}]'))).toBe(0)
  })

  it('rejects unsupported shapes with ScanFormatError', () => {
    rejects(trivy, { foo: 1 }, /schema not supported/)
    rejects(trivy, { SchemaVersion: 3, Results: [] }, /SchemaVersion 3 is not supported/)
    rejects(trivy, { SchemaVersion: 2, Results: { Target: 'x' } }, /"Results" must be a JSON array/)
    rejects(trivy, { SchemaVersion: 2, Results: [{ Target: 'x', Vulnerabilities: 'none' }] }, /"Vulnerabilities" of target x must be a JSON array/)
    rejects(trivy, { ClusterName: 'c', Resources: [42] }, /Resources\[0\] is not an object/)
    rejects(trivy, { ClusterName: 'c', Vulnerabilities: [{ Namespace: 'n', Results: 'x' }] }, /Results must be a JSON array/)
  })

  it('tolerates results without Target and non-object entries like DefectDojo', () => {
    const r = parseWith(trivy, doc(JSON.stringify({ SchemaVersion: 2, ArtifactName: 'img:1', ArtifactType: 'container_image', Results: [{ Class: 'os-pkgs' }, { Target: 't', Vulnerabilities: [1, { VulnerabilityID: 'CVE-2024-0001', PkgName: 'p', InstalledVersion: '1', Severity: 'UNKNOWN' }] }] })))
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]).toMatchObject({ title: 'CVE-2024-0001 p 1', severity: 'info', scannerSeverity: 'UNKNOWN' })
  })

  it('derives severity from CVSS when Trivy gives none', () => {
    const r = parseWith(trivy, doc(JSON.stringify({ SchemaVersion: 2, ArtifactName: 'x', ArtifactType: 'filesystem', Results: [{ Target: 'go.mod', Class: 'lang-pkgs', Type: 'gomod', Vulnerabilities: [{ VulnerabilityID: 'GHSA-xxxx-xxxx-xxxx', PkgName: 'p', CVSS: { ghsa: { V3Score: 9.1 } } }] }] })))
    expect(r.findings[0]).toMatchObject({ severity: 'critical', cvss: { score: 9.1, version: '3.1' } })
  })
})

describe('trivy_operator', () => {
  it('vulnerabilityreport_many: fields of the first two findings; image → CONTAINER', () => {
    const r = parseFile(trivyOperator, 'trivy_operator/vulnerabilityreport_many.json')
    const [f0, f1] = r.findings
    expect(f0).toMatchObject({
      title: 'CVE-2023-23914 curl 7.87.0-r1',
      severity: 'critical',
      vulnerabilityIds: ['CVE-2023-23914'],
      fixVersion: '7.87.0-r2',
      cvss: { score: 4.2 },
      component: { name: 'curl', version: '7.87.0-r1' },
      references: ['https://avd.aquasec.com/nvd/cve-2023-23914'],
    })
    expect(f1).toMatchObject({ title: 'CVE-2023-23916 curl 7.87.0-r1', severity: 'high', vulnerabilityIds: ['CVE-2023-23916'], fixVersion: '7.87.0-r2', cvss: { score: 6.5 } })
    expect(r.assets).toEqual([{
      key: f0!.assetKey,
      type: 'CONTAINER',
      attributes: { image: 'index.docker.io/library/nginx:alpine' },
      tags: ['default', 'ReplicaSet/nginx-deployment-965685897'],
    }])
  })

  it('vulnerabilityreport_single / _extended: severity, path, tags, os', () => {
    expect(parseFile(trivyOperator, 'trivy_operator/vulnerabilityreport_single_vuln.json').findings).toHaveLength(1)
    const r = parseFile(trivyOperator, 'trivy_operator/vulnerabilityreport_extended.json')
    expect(r.findings).toHaveLength(5)
    expect(r.findings[0]).toMatchObject({
      title: 'CVE-2024-0553 libgnutls30 3.6.13-2ubuntu1.9',
      severity: 'medium',
      fixVersion: '3.6.13-2ubuntu1.10',
      cvss: { score: 5.9 },
      location: { path: 'ubuntu:20.04 (ubuntu 20.04)' },
      tags: ['ubuntu', 'os-pkgs'],
    })
    expect(r.assets[0]!.attributes).toEqual({ image: 'index.docker.io/library/ubuntu:20.04', os: 'ubuntu 20.04' })
  })

  it('configauditreport_many: uniform AVD ids, titles; the workload → INFRA', () => {
    const r = parseFile(trivyOperator, 'trivy_operator/configauditreport_many.json')
    expect(r.findings[0]).toMatchObject({ severity: 'low', vulnerabilityIds: ['AVD-KSV-0014'], title: 'KSV014 - Root file system is not read-only', ruleId: 'KSV014' })
    expect(r.findings[1]).toMatchObject({ severity: 'low', vulnerabilityIds: ['AVD-KSV-0016'], title: 'KSV016 - Memory requests not specified' })
    expect(r.findings[0]!.remedy).toContain("should set 'securityContext.readOnlyRootFilesystem' to true")
    expect(r.assets[0]).toMatchObject({ type: 'INFRA', attributes: { hostname: 'default/ReplicaSet/nginx-deployment-965685897' } })
  })

  it('configauditreport_single / with_remediation / missing_checkid', () => {
    expect(parseFile(trivyOperator, 'trivy_operator/configauditreport_single_vuln.json').findings[0]).toMatchObject({
      severity: 'low', vulnerabilityIds: ['AVD-KSV-0014'], title: 'KSV014 - Root file system is not read-only',
    })
    const rem = parseFile(trivyOperator, 'trivy_operator/configauditreport_with_remediation.json').findings[0]!
    expect(rem.remedy).toBe("Set 'securityContext.readOnlyRootFilesystem' to true.\n\nContainer 'nginx' of Deployment 'nginx-app' should set 'securityContext.readOnlyRootFilesystem' to true")
    const missing = parseFile(trivyOperator, 'trivy_operator/configauditreport_missing_checkid.json').findings
    expect(missing).toHaveLength(1)
    expect(missing[0]).toMatchObject({ title: 'Missing checkID test', severity: 'medium' })
    expect(missing[0]!.vulnerabilityIds).toBeUndefined()
  })

  it('exposedsecretreport_many: secrets with path and rule', () => {
    const r = parseFile(trivyOperator, 'trivy_operator/exposedsecretreport_many.json')
    expect(r.findings).toHaveLength(2)
    expect(r.findings[0]).toMatchObject({ severity: 'critical', ruleId: 'aws-secret-access-key', location: { path: 'root/aws_secret.txt' }, title: 'Secret detected in root/aws_secret.txt - AWS Secret Access Key' })
    expect(r.findings[1]).toMatchObject({ ruleId: 'github-pat', location: { path: 'root/github_secret.txt' }, title: 'Secret detected in root/github_secret.txt - GitHub Personal Access Token' })
    expect(parseFile(trivyOperator, 'trivy_operator/exposedsecretreport_single_vuln.json').findings).toHaveLength(1)
  })

  it('cis_benchmark: failed checks of the detail report, check severity first', () => {
    const r = parseFile(trivyOperator, 'trivy_operator/cis_benchmark.json')
    expect(r.findings[0]).toMatchObject({ title: '5.1.2 AVD-KSV-0041 /clusterrole-admin', severity: 'critical', vulnerabilityIds: ['AVD-KSV-0041'] })
    expect(r.findings[40]).toMatchObject({ title: '5.2.2 AVD-KSV-0017 kube-system/daemonset-csi-azuredisk-node', severity: 'high', vulnerabilityIds: ['AVD-KSV-0017'] })
    expect(r.findings[40]!.assetKey).toBe('INFRA||kube-system/daemonset-csi-azuredisk-node')
  })

  it('compliance_severity: the check severity, else the control severity', () => {
    const r = parseFile(trivyOperator, 'trivy_operator/compliance_severity.json')
    expect(r.findings.map((f) => f.severity)).toEqual(['medium', 'high'])
  })

  it('clustercompliancereport: one finding per failing control with its check ids', () => {
    const r = parseFile(trivyOperator, 'trivy_operator/clustercompliancereport.json')
    expect(r.findings.map((f) => f.title)).toEqual(['TrivyClusterCompliance 4.2.10 totalFail: 10', 'TrivyClusterCompliance 4.2.11 totalFail: 5'])
    expect(r.findings[0]).toMatchObject({ severity: 'critical', vulnerabilityIds: ['AVD-KCV-0088', 'AVD-KCV-0089'] })
    expect(r.assets).toEqual([{ key: r.findings[0]!.assetKey, type: 'INFRA', attributes: { hostname: 'kubernetes-cluster' }, tags: ['kubernetes'] }])
  })

  it('reads a kubectl List of reports', () => {
    const report = corpusDocument('trivy_operator/vulnerabilityreport_single_vuln.json').json
    const d = doc(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [report, report] }))
    expect(detectAmong(PARSERS, d)).toBe('trivy_operator')
    expect(parseWith(trivyOperator, d).findings).toHaveLength(2)
  })

  it('skips reports without labels, like DefectDojo', () => {
    const r = parseWith(trivyOperator, doc(JSON.stringify([{ apiVersion: 'aquasecurity.github.io/v1alpha1', kind: 'VulnerabilityReport', metadata: {}, report: { vulnerabilities: [{ vulnerabilityID: 'CVE-1', severity: 'LOW' }] } }])))
    expect(r.findings).toHaveLength(0)
    expect(r.warnings.join()).toMatch(/without metadata.labels/)
  })

  it('uniformVulnId', () => {
    expect(uniformVulnId('KSV014')).toBe('AVD-KSV-0014')
    expect(uniformVulnId('AVD-KSV-0041')).toBe('AVD-KSV-0041')
    expect(uniformVulnId('KCV0087')).toBe('AVD-KCV-0087')
    expect(uniformVulnId('KHV5')).toBe('KHV005')
    expect(uniformVulnId('CVE-2023-1')).toBe('CVE-2023-1')
    expect(uniformVulnId('DS002')).toBe('DS002')
  })

  it('malformed input → ScanFormatError', () => {
    const labels = { 'trivy-operator.resource.kind': 'Pod' }
    rejects(trivyOperator, { foo: 1 }, /not a trivy-operator resource/)
    rejects(trivyOperator, [1], /report 1 is not a report object/)
    rejects(trivyOperator, { 'vulnerabilityreports.aquasecurity.github.io': {} }, /must be a JSON array/)
    rejects(trivyOperator, { apiVersion: 'aquasecurity.github.io/v1alpha1', kind: 'VulnerabilityReport', metadata: { labels }, report: { vulnerabilities: {} } }, /report.vulnerabilities must be a JSON array/)
    rejects(trivyOperator, { apiVersion: 'aquasecurity.github.io/v1alpha1', kind: 'VulnerabilityReport', metadata: { labels }, report: 'x' }, /report is not an object/)
    rejects(trivyOperator, { apiVersion: 'aquasecurity.github.io/v1alpha1', kind: 'ClusterComplianceReport', metadata: { labels }, status: { detailReport: { results: [5] } } }, /results\[0\] is not an object/)
  })
})
