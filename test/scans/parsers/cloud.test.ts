import { describe, expect, it } from 'vitest'
import { parser as awsProwler } from '../../../src/modules/scans/parsers/aws_prowler.js'
import { parser as awsProwlerV3plus } from '../../../src/modules/scans/parsers/aws_prowler_v3plus.js'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import { parser as prowler } from '../../../src/modules/scans/parsers/prowler.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { ScanFormatError, shorten } from '../../../src/modules/scans/parsers/util.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [awsProwler, awsProwlerV3plus, prowler]
// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

const parseFile = (p: ScannerParser, file: string, fixData = true) => parseWith(p, corpusDocument(file), fixData)
const doc = (text: string, name = 'report.json') => loadDocument(name, text)
const rejects = (p: ScannerParser, text: string, message: RegExp, name = 'report.json', fixData = true) => {
  const d = doc(text, name)
  expect(() => parseWith(p, d, fixData)).toThrow(ScanFormatError)
  expect(() => parseWith(p, d, fixData)).toThrow(message)
}

describe('shorten (textwrap.shorten)', () => {
  it('keeps short text, collapses whitespace, cuts long text at a word with " [...]"', () => {
    expect(shorten('a  b\n c')).toBe('a b c')
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')
    const s = shorten(long)
    expect(s.length).toBeLessThanOrEqual(150)
    expect(s.endsWith(' [...]')).toBe(true)
    expect(long.startsWith(s.slice(0, -6))).toBe(true)
  })
})

describe('aws_prowler (Prowler v2)', () => {
  it('issue4450.csv: PASS rows are inactive Info findings, FAIL rows take the check severity', () => {
    const r = parseFile(awsProwler, 'aws_prowler/issue4450.csv')
    const [f0, f1] = r.findings
    expect(f0!.title).toBe("Root user in the account wasn't accessed in the last 1 days")
    expect(f0!.severity).toBe('info')
    expect(f0!.cwe).toEqual([1032])
    expect(f0!.status).toBe('mitigated')
    expect(f1!.title).toBe('User ansible-test-user has Password enabled but MFA disabled')
    expect(f1!.severity).toBe('high')
    expect(f1!.scannerSeverity).toBe('High')
    expect(f1!.cwe).toEqual([1032])
    expect(f1!.status).toBeUndefined()
    expect(f1!.ruleId).toBe('check12')
  })

  it('many_vuln.csv: severities, titles, CLOUD asset with account and region', () => {
    const r = parseFile(awsProwler, 'aws_prowler/many_vuln.csv')
    expect(r.findings[0]!.title).toBe("Root user in the account wasn't accessed in the last 1 days")
    expect(r.findings[0]!.severity).toBe('high')
    expect(r.findings[1]!.title).toMatch(/^User example_user has never used access key 1 since creation and not rotated it in the /)
    expect(r.findings[1]!.severity).toBe('medium')
    expect(r.findings[0]!.references).toEqual(['http://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html'])
    expect(r.findings[0]!.remedy).toMatch(/^Follow the remediation instructions/)
    expect(r.assets.map((a) => a.attributes)).toEqual([
      { provider: 'aws', account: '012345678910', region: 'us-east-1' },
      { provider: 'aws', account: '012345678910', region: 'eu-west-2' },
    ])
    expect(r.assets[0]!.key).toBe(r.findings[0]!.assetKey)
  })

  it('many_vuln2.csv: rows with the same severity, region and result text are merged (214 rows → 174)', () => {
    const r = parseFile(awsProwler, 'aws_prowler/many_vuln2.csv')
    expect(r.findings).toHaveLength(174)
    expect(r.findings[0]!.title).toBe("Root user in the account wasn't accessed in the last 1 days")
    expect(r.findings[0]!.severity).toBe('info')
    expect(r.findings[4]!.title).toMatch(/^User example has never used access key 1 since creation and not rotated it in the past/)
    expect(r.findings.reduce((n, f) => n + (f.occurrences ?? 1), 0)).toBe(214)
  })

  it('many_vuln.json (JSON lines): only FAIL results; titles and severities', () => {
    const r = parseFile(awsProwler, 'aws_prowler/many_vuln.json')
    expect(r.findings).toHaveLength(4)
    expect(r.findings[0]!.title).toBe('eu-central-1: Only Virtual MFA is enabled for root')
    expect(r.findings[0]!.severity).toBe('critical')
    expect(r.findings[1]!.title).toBe('eu-central-1: Cluster control plane access is not restricted for EKS cluster prod')
    expect(r.findings[1]!.severity).toBe('high')
  })

  it('one_vuln.json: remedy, reference, rule, asset with the resource', () => {
    const r = parseFile(awsProwler, 'aws_prowler/one_vuln.json')
    const f = r.findings[0]!
    expect(f.title).toBe('eu-central-1: Only Virtual MFA is enabled for root')
    expect(f.severity).toBe('critical')
    expect(f.remedy).toBe('Using IAM console navigate to Dashboard and expand Activate MFA on your root account.')
    expect(f.references).toEqual(['https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user_manage_mfa'])
    expect(f.ruleId).toBe('check114')
    expect(f.description).toContain('Control: Ensure hardware MFA is enabled for the root account')
    expect(r.assets).toEqual([{
      key: f.assetKey, type: 'CLOUD', attributes: { provider: 'aws', account: '012345678912', region: 'eu-central-1', resource: 'MFA' },
    }])
  })

  it('one_vuln.csv: title', () => {
    expect(parseFile(awsProwler, 'aws_prowler/one_vuln.csv').findings.map((f) => f.title)).toEqual(["Root user in the account wasn't accessed in the last 1 days"])
  })

  it('FAIL without a severity: Level 1 → critical, else high; Informational → low', () => {
    const header = 'PROFILE,ACCOUNT_NUM,REGION,TITLE_ID,CHECK_RESULT,ITEM_SCORED,ITEM_LEVEL,TITLE_TEXT,CHECK_RESULT_EXTENDED,CHECK_SEVERITY'
    const csv = [header,
      ',1,r,1.1,FAIL,Scored,Level 1,[check11] A,a failed,',
      ',1,r,1.2,FAIL,Scored,Level 2,[check12] B,b failed,',
      ',1,r,1.3,FAIL,Scored,Level 2,[check13] C,c failed,Informational'].join('\n')
    const r = parseWith(awsProwler, doc(csv, 'p.csv'))
    expect(r.findings.map((f) => f.severity)).toEqual(['critical', 'high', 'low'])
  })

  it('rejects malformed input', () => {
    rejects(awsProwler, 'PROFILE,ACCOUNT_NUM,REGION\nx,1,r\n', /lacks the column\(s\) TITLE_TEXT, CHECK_RESULT/, 'p.csv')
    rejects(awsProwler, '{"Account Number":"1","Control":"[c1] x"}\n{"Account Number":"1","Control":"[c2] y"}\n', /record 1 is not a Prowler v2 result/)
    rejects(awsProwler, '{"Account Number":"1","Control":"[c1] x","Status":"FAIL","Message":7}', /needs "Status" and "Message"/)
  })
})

describe('aws_prowler_v3plus (Prowler v3 JSON, v4 OCSF)', () => {
  it('many_vuln.json (v3): unique ids, description, merge key', () => {
    const r = parseFile(awsProwlerV3plus, 'aws_prowler_v3plus/many_vuln.json')
    expect(r.findings.map((f) => f.uniqueId)).toEqual([
      'prowler-aws-acm_certificates_expiration_check-999999999999-us-east-1-api.teste.teste.com',
      'prowler-aws-accessanalyzer_enabled-999999999999-us-east-1-999999999999',
      'prowler-aws-account_maintain_current_contact_details-999999999999-us-east-1-999999999999',
    ])
    expect(r.findings[0]!.description).toContain('Check if ACM Certificates are about to expire in specific days or less')
    expect(r.findings[1]!.description).toContain('Check if IAM Access Analyzer is enabled')
    expect(r.findings[2]!.description).toContain('Maintain current contact details.')
  })

  it('one_vuln.json (v3): fields and CLOUD asset with the resource ARN', () => {
    const r = parseFile(awsProwlerV3plus, 'aws_prowler_v3plus/one_vuln.json')
    const f = r.findings[0]!
    expect(f.uniqueId).toBe('prowler-aws-acm_certificates_expiration_check-999999999999-us-east-1-api.sandbox.partner.teste.com')
    expect(f.title).toBe('ACM Certificate for api.sandbox.partner.teste.com is about to expire in 7 days.')
    expect(f.severity).toBe('high')
    expect(f.scannerSeverity).toBe('high')
    expect(f.ruleId).toBe('acm_certificates_expiration_check')
    expect(f.cwe).toEqual([1032])
    expect(f.references).toContain('https://docs.aws.amazon.com/config/latest/developerguide/acm-certificate-expiration-check.html')
    expect(f.remedy).toMatch(/^Monitor certificate expiration/)
    expect(f.description).toContain('Check if ACM Certificates are about to expire in specific days or less')
    expect(r.assets).toEqual([{
      key: f.assetKey, type: 'CLOUD',
      attributes: { provider: 'aws', account: '999999999999', region: 'us-east-1', resource: 'arn:aws:acm:us-east-1:999999999999:certificate/ffffffff-0000-0000-0000-000000000000' },
    }])
  })

  it('one_vuln.ocsf.json (v4): unique id, resource ARN as asset, references', () => {
    const r = parseFile(awsProwlerV3plus, 'aws_prowler_v3plus/one_vuln.ocsf.json')
    const f = r.findings[0]!
    expect(f.uniqueId).toBe('prowler-aws-iam_role_administratoraccess_policy_permissive_trust_relationship-123456789012-us-east-1-myAdministratorExecutionRole')
    expect(f.title).toBe('IAM Role myAdministratorExecutionRole has AdministratorAccess policy attached that has too permissive trust relationship.')
    expect(f.severity).toBe('high')
    expect(f.ruleId).toBe('iam_role_administratoraccess_policy_permissive_trust_relationship')
    expect(f.description).toContain('Ensure IAM Roles with attached AdministratorAccess policy have a well defined trust relationship')
    expect(f.references).toContain('https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege')
    expect(r.assets[0]).toEqual({
      key: f.assetKey, type: 'CLOUD',
      attributes: { provider: 'aws', account: '123456789012', region: 'us-east-1', resource: 'arn:aws:iam::123456789012:role/myAdministratorExecutionRole' },
    })
    expect(parseFile(awsProwlerV3plus, 'aws_prowler_v3plus/one_vuln_after_4_5_0.ocsf.json').findings[0]!.uniqueId).toBe(f.uniqueId)
  })

  it('many_vuln.ocsf.json: a FAIL muted in Prowler (status Suppressed) is skipped, as DefectDojo does', () => {
    const r = parseFile(awsProwlerV3plus, 'aws_prowler_v3plus/many_vuln.ocsf.json')
    expect(r.findings.map((f) => f.uniqueId)).toEqual([
      'prowler-aws-iam_role_administratoraccess_policy_permissive_trust_relationship-123456789012-us-east-1-myAdministratorExecutionRole',
      'prowler-aws-iam_role_cross_account_readonlyaccess_policy-123456789012-us-east-1-AuditRole',
    ])
    expect(r.findings[1]!.description).toContain('Ensure IAM Roles do not have ReadOnlyAccess access for external AWS accounts')
    expect(r.warnings.join('\n')).toMatch(/1 failed checks muted/)
  })

  it('merges results with the same finding id; PASS is skipped', () => {
    const rec = (status: string) => ({ Status: status, StatusExtended: 'x failed', FindingUniqueId: 'prowler-aws-c-1-r-x', Severity: 'low', AccountId: '1', Region: 'r', Provider: 'aws' })
    const r = parseWith(awsProwlerV3plus, doc(JSON.stringify([rec('FAIL'), rec('FAIL'), rec('PASS')])))
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.occurrences).toBe(2)
  })

  it('a v3 result without FindingUniqueId: derived with fix_data (repair logged), rejected without', () => {
    const text = JSON.stringify([{ Status: 'FAIL', StatusExtended: 'x failed', CheckID: 'c', AccountId: '1', Region: 'r', ResourceId: 'x', Provider: 'aws' }])
    const r = parseWith(awsProwlerV3plus, doc(text))
    expect(r.findings[0]!.uniqueId).toBe('prowler-aws-c-1-r-x')
    expect(r.repairs).toHaveLength(1)
    rejects(awsProwlerV3plus, text, /has no "FindingUniqueId"/, 'report.json', false)
  })

  it('rejects malformed input', () => {
    rejects(awsProwlerV3plus, '{"Status":"FAIL"}', /expected a JSON array/)
    rejects(awsProwlerV3plus, '[1]', /item 1 is not an object/)
    rejects(awsProwlerV3plus, '[{"Status":"FAIL","FindingUniqueId":"u"}]', /no "StatusExtended"/)
    rejects(awsProwlerV3plus, '[{"foo":"bar"}]', /neither a Prowler v3 result/)
  })
})

describe('prowler (multi-cloud CSV and OCSF JSON)', () => {
  it('example_output_aws.csv: FAIL and MANUAL are findings, title = check title', () => {
    const r = parseFile(prowler, 'prowler/example_output_aws.csv')
    expect(r.findings).toHaveLength(4)
    const f = r.findings[0]!
    expect(f.title).toBe('Check if IAM Access Analyzer is enabled')
    expect(f.severity).toBe('low')
    expect(f.ruleId).toBe('accessanalyzer_enabled')
    expect(f.description).toContain('Status detail: IAM Access Analyzer in account <account_uid> is not enabled.')
    expect(f.description).toContain('CIS-1.4: 1.20')
    expect(f.remedy).toContain('Enable IAM Access Analyzer for all accounts')
    expect(f.remedy).toContain('CLI: aws accessanalyzer create-analyzer')
    expect(f.references).toContain('https://docs.aws.amazon.com/IAM/latest/UserGuide/what-is-access-analyzer.html')
    expect(f.tags).toEqual(['aws', 'accessanalyzer'])
    expect(r.findings[1]!.title).toBe('Maintain current contact details.')
    expect(r.findings[1]!.severity).toBe('medium')
    expect(r.findings[1]!.extra?.status).toBe('MANUAL')
    // Every row of this redacted sample has FINDING_UID "<finding_uid>": not a usable unique id.
    expect(r.findings.every((x) => x.uniqueId === undefined)).toBe(true)
  })

  it('example_output_gcp.csv: PASS skipped, identical rows merged; GCP asset', () => {
    const r = parseFile(prowler, 'prowler/example_output_gcp.csv')
    expect(r.findings.map((f) => [f.title, f.severity])).toEqual([
      ['Ensure Image Vulnerability Analysis using AR Container Analysis or a third-party provider', 'medium'],
      ['Ensure That RDP Access Is Restricted From the Internet', 'critical'],
    ])
    expect(r.findings[1]!.occurrences).toBe(2)
    expect(r.assets).toEqual([{
      key: r.findings[0]!.assetKey, type: 'CLOUD', attributes: { provider: 'gcp', account: '<account_uid>', region: '<region>', resource: '<resource_uid>' },
    }])
  })

  it('example_output_azure.csv and kubernetes.csv: providers', () => {
    const az = parseFile(prowler, 'prowler/example_output_azure.csv')
    expect(az.findings).toHaveLength(4)
    expect(az.findings[0]!.title).toBe('Ensure AKS RBAC is enabled')
    expect(az.assets[0]!.attributes.provider).toBe('azure')
    const k8s = parseFile(prowler, 'prowler/example_output_kubernetes.csv')
    expect(k8s.findings[0]!.title).toBe('Ensure that the admission control plugin AlwaysPullImages is set')
    expect(k8s.assets[0]!.attributes).toMatchObject({ provider: 'kubernetes', region: 'namespace: kube-system' })
  })

  it('example_output_aws.ocsf.json: title = message, severity, rule, asset', () => {
    const r = parseFile(prowler, 'prowler/example_output_aws.ocsf.json')
    const f = r.findings[0]!
    expect(f.title).toBe('IAM Access Analyzer in account <account_uid> is not enabled.')
    expect(f.severity).toBe('low')
    expect(f.scannerSeverity).toBe('Low')
    expect(f.ruleId).toBe('accessanalyzer_enabled')
    expect(f.description).toMatch(/^Check if IAM Access Analyzer is enabled/)
    expect(f.remedy).toMatch(/^Enable IAM Access Analyzer/)
    expect(r.findings[1]!.extra?.status).toBe('MANUAL')
    expect(r.assets[0]).toMatchObject({ type: 'CLOUD', attributes: { provider: 'aws', account: '<account_uid>', region: '<region>', resource: '<resource_uid>' } })
  })

  it('example_output_kubernetes.ocsf.json: duplicates merged; Kubernetes asset without an account', () => {
    const r = parseFile(prowler, 'prowler/example_output_kubernetes.ocsf.json')
    expect(r.findings).toHaveLength(3)
    expect(r.findings[2]!.occurrences).toBe(2)
    expect(r.findings[0]!.title).toBe('AlwaysPullImages admission control plugin is not set in pod <pod>.')
    expect(r.assets[0]!.attributes).toMatchObject({ provider: 'kubernetes', account: 'unknown', resource: '<resource_uid>' })
    expect(r.warnings.join('\n')).toMatch(/name no cloud account/)
  })

  it('azure and gcp OCSF', () => {
    const az = parseFile(prowler, 'prowler/example_output_azure.ocsf.json')
    expect(az.findings).toHaveLength(3)
    expect(az.assets[0]!.attributes).toMatchObject({ provider: 'azure', account: '<subscription_uid>', region: 'global' })
    const gcp = parseFile(prowler, 'prowler/example_output_gcp.ocsf.json')
    expect(gcp.findings.map((f) => f.severity)).toEqual(['medium', 'medium', 'critical'])
  })

  it('muted results stay findings but are risk accepted (CSV MUTED, OCSF status Suppressed)', () => {
    const csv = 'FINDING_UID;PROVIDER;CHECK_ID;CHECK_TITLE;STATUS;STATUS_EXTENDED;MUTED;SEVERITY;ACCOUNT_UID;REGION;RESOURCE_UID\n'
      + 'u1;aws;c1;Check one;FAIL;bad 1;True;high;111;eu-west-1;arn:1\n'
      + 'u2;aws;c2;Check two;PASS;good;False;high;111;eu-west-1;arn:2\n'
      + 'u3;aws;c3;Check three;FAIL;bad 3;False;low;111;eu-west-1;arn:3\n'
    const r = parseWith(prowler, doc(csv, 'p.csv'))
    expect(r.findings.map((f) => [f.title, f.status, f.uniqueId])).toEqual([
      ['Check one', 'risk_accepted', 'u1'],
      ['Check three', undefined, 'u3'],
    ])
    const ocsf = [{ message: 'bad', status_code: 'FAIL', status: 'Suppressed', severity: 'High', finding_info: { uid: 'x' }, metadata: { product: { name: 'Prowler' } }, cloud: { provider: 'aws', account: { uid: '1' } } }]
    expect(parseWith(prowler, doc(JSON.stringify(ocsf))).findings[0]!.status).toBe('risk_accepted')
  })

  it('rejects malformed input', () => {
    rejects(prowler, 'CHECK_ID;CHECK_TITLE;PROVIDER\nc;t;aws\n', /lacks the column\(s\) STATUS/, 'p.csv')
    rejects(prowler, '{"status_code":"FAIL"}', /expected a JSON array/)
    rejects(prowler, '[{"message":"x"}]', /no "status_code"/)
    rejects(prowler, '[{"status_code":"FAIL","finding_info":{}}]', /no "message", title or status detail/)
  })
})

describe('detection between the Prowler generations', () => {
  it('OCSF from Prowler 4.x (no message) → aws_prowler_v3plus; Prowler 5 (message) → prowler', () => {
    expect(detectAmong(PARSERS, corpusDocument('aws_prowler_v3plus/many_vuln.ocsf.json'))).toBe('aws_prowler_v3plus')
    expect(detectAmong(PARSERS, corpusDocument('prowler/example_output_aws.ocsf.json'))).toBe('prowler')
  })

  it('claims nothing that is not Prowler', () => {
    const others = [
      '[{"SchemaVersion":2}]',
      '{"Results":[]}',
      '[{"status_code":"FAIL","finding_info":{"uid":"x"},"metadata":{"product":{"name":"Other"}}}]',
    ]
    for (const t of others) for (const p of PARSERS) expect(p.detect(doc(t))).toBe(0)
    for (const p of PARSERS) expect(p.detect(doc('Name,Severity,Status\na,b,c\n', 'x.csv'))).toBe(0)
  })
})
