import { describe, expect, it } from 'vitest'
import { parser as acunetix } from '../../../src/modules/scans/parsers/acunetix.js'
import { parser as burp } from '../../../src/modules/scans/parsers/burp.js'
import { parser as burpApi } from '../../../src/modules/scans/parsers/burp_api.js'
import { parser as burpDastardly } from '../../../src/modules/scans/parsers/burp_dastardly.js'
import { parser as burpGraphql } from '../../../src/modules/scans/parsers/burp_graphql.js'
import { parser as checkmarx } from '../../../src/modules/scans/parsers/checkmarx.js'
import { referenceUrls, urlBits, webAttributes } from '../../../src/modules/scans/parsers/dast-common.js'
import { loadDocument } from '../../../src/modules/scans/parsers/document.js'
import type { ScannerParser } from '../../../src/modules/scans/parsers/types.js'
import { ScanFormatError } from '../../../src/modules/scans/parsers/util.js'
import { parser as zap } from '../../../src/modules/scans/parsers/zap.js'
import { corpusDocument, detectAmong, parseWith } from '../corpus.js'

const PARSERS: ScannerParser[] = [zap, burp, burpApi, burpGraphql, burpDastardly, acunetix, checkmarx]

// Counts and detection of every corpus file: test/scans/corpus.test.ts (against the whole registry).

const parseFile = (p: ScannerParser, file: string) => parseWith(p, corpusDocument(file))
const doc = (text: string, name = 'report.json') => loadDocument(name, text)
const rejects = (p: ScannerParser, text: string, message?: RegExp, name?: string) => {
  const d = doc(text, name)
  expect(() => parseWith(p, d)).toThrow(ScanFormatError)
  if (message) expect(() => parseWith(p, d)).toThrow(message)
}

describe('dast-common', () => {
  it('urlBits / webAttributes: origin, host as fqdn or ip, default ports', () => {
    expect(urlBits('https://ginandjuice.shop:443/catalog?x=1')).toMatchObject({ origin: 'https://ginandjuice.shop', port: 443, protocol: 'https', path: '/catalog' })
    expect(urlBits('www.example.com/a')).toMatchObject({ host: 'www.example.com', path: '/a' })
    expect(urlBits('not a url ::')).toEqual({})
    expect(webAttributes('http://172.17.0.2')).toEqual({ url: 'http://172.17.0.2', ip: '172.17.0.2' })
    expect(webAttributes('https://example.com', '54.12.18.21')).toEqual({ url: 'https://example.com', fqdn: 'example.com', ip: '54.12.18.21' })
  })

  it('referenceUrls: href targets and bare URLs, deduplicated', () => {
    expect(referenceUrls('<a href="https://a.test/x">A</a> see https://a.test/x and https://b.test/y.')).toEqual(['https://a.test/x', 'https://b.test/y'])
  })
})

describe('zap', () => {
  it('dvwa_baseline_dojo: findings[0] title, severity, plugin id, asset and endpoints', () => {
    const r = parseFile(zap, 'zap/dvwa_baseline_dojo.xml')
    const f = r.findings[0]!
    expect(f.title).toBe('X-Frame-Options Header Not Set')
    expect(f.severity).toBe('medium')
    expect(f.scannerSeverity).toBe('Medium')
    expect(f.ruleId).toBe('10020')
    expect(f.location).toMatchObject({ protocol: 'http', port: 80 })
    expect(f.extra?.instances).toBe(11)
    expect((f.extra?.endpoints as string[])[1]).toBe('http://172.17.0.2/vulnerabilities/sqli_blind/')
    expect(r.assets).toHaveLength(1)
    expect(r.assets[0]).toMatchObject({ type: 'WEB', attributes: { url: 'http://172.17.0.2', ip: '172.17.0.2' } })
    expect(f.assetKey).toBe(r.assets[0]!.key)
    const last = r.findings[18]!
    expect(last.title).toBe('Private IP Disclosure')
    expect(last.severity).toBe('low')
    expect(last.ruleId).toBe('2')
  })

  it('juicy2: https host, port 443, CWE, references, description as text', () => {
    const r = parseFile(zap, 'zap/juicy2.xml')
    const f = r.findings[0]!
    expect(f.title).toBe('Incomplete or No Cache-control Header Set')
    expect(f.severity).toBe('low')
    expect(f.ruleId).toBe('10015')
    expect(f.location).toMatchObject({ protocol: 'https', port: 443, method: 'GET' })
    expect(f.extra?.instances).toBe(20)
    expect((f.extra?.endpoints as string[])[1]).toBe('https://juice-shop.herokuapp.com/assets/public/polyfills-es2018.js')
    expect(f.description).not.toMatch(/<p>/)
    expect(f.remedy).toBeTruthy()
    expect(f.references?.length).toBeGreaterThan(0)
    const csp = r.findings[5]!
    expect(csp.title).toBe('CSP: Wildcard Directive')
    expect(csp.severity).toBe('medium')
    expect(csp.ruleId).toBe('10055')
    expect(csp.cwe).toEqual([693])
    expect(r.assets[0]!.attributes).toEqual({ url: 'https://juice-shop.herokuapp.com', fqdn: 'juice-shop.herokuapp.com' })
  })

  it('zap-results-first-scan: info severity, port 8080, last finding CWE 359', () => {
    const r = parseFile(zap, 'zap/zap-results-first-scan.xml')
    const f = r.findings[0]!
    expect(f.title).toBe('User Controllable HTML Element Attribute (Potential XSS)')
    expect(f.severity).toBe('info')
    expect(f.ruleId).toBe('10031')
    expect(f.location).toMatchObject({ protocol: 'http', port: 8080 })
    // 11 instances (DefectDojo's 11 endpoints), all product.jsp with another query: one distinct endpoint.
    expect(f.extra?.instances).toBe(11)
    expect(f.extra?.endpoints).toEqual(['http://bodgeit.securecodebox-demo.svc:8080/bodgeit/product.jsp'])
    const pii = r.findings[14]!
    expect(pii.title).toBe('PII Disclosure')
    expect(pii.severity).toBe('high')
    expect(pii.cwe).toEqual([359])
    expect(pii.location?.path).toBe('/bodgeit/contact.jsp')
    expect(r.assets[0]!.attributes).toMatchObject({ url: 'http://bodgeit.securecodebox-demo.svc:8080', fqdn: 'bodgeit.securecodebox-demo.svc' })
  })

  it('empty site: no findings, the site is still the asset', () => {
    const r = parseFile(zap, 'zap/empty_2.9.0.xml')
    expect(r.findings).toHaveLength(0)
    expect(r.assets[0]!.attributes).toMatchObject({ url: 'https://isaac.nl', fqdn: 'isaac.nl' })
  })

  it('ZAP 1.4 layout (uri on the alert, no instances) gives a location', () => {
    const r = parseFile(zap, 'zap/zaproxy-demo-site_1.4.0.1.xml')
    expect(r.findings[0]!.location?.url).toBe('http://10.2.100.1/')
    expect(r.findings[0]!.severity).toBe('low')
    expect(r.findings[1]!.severity).toBe('info')
  })

  it('confidence 0 (user-marked false positive) → false_positive', () => {
    const r = parseWith(zap, doc(`<OWASPZAPReport version="2.11"><site name="http://h.test" host="h.test" port="80" ssl="false"><alerts>
      <alertitem><pluginid>1</pluginid><alert>A</alert><riskcode>3</riskcode><confidence>0</confidence><desc>&lt;p&gt;d&lt;/p&gt;</desc>
      <instances><instance><uri>http://h.test/x?y=1</uri><method>POST</method><param>y</param></instance></instances><cweid>-1</cweid></alertitem>
      </alerts></site></OWASPZAPReport>`, 'r.xml'))
    const f = r.findings[0]!
    expect(f.status).toBe('false_positive')
    expect(f.severity).toBe('high')
    expect(f.cwe).toBeUndefined()
    expect(f.description).toBe('d')
    expect(f.location).toMatchObject({ url: 'http://h.test/x?y=1', method: 'POST', param: 'y', path: '/x' })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(zap, '<OWASPZAPReport><site><alerts><alertitem><alert>x</alert></alertitem></alerts></site></OWASPZAPReport>', /neither a name nor a host/, 'r.xml')
    rejects(zap, '<OWASPZAPReport><site name="http://a.test"><alerts><alertitem><riskcode>1</riskcode></alertitem></alerts></site></OWASPZAPReport>', /no <alert>/, 'r.xml')
    rejects(zap, '{"site": []}', /OWASPZAPReport/)
    rejects(zap, '<OWASPZAPReport>text</OWASPZAPReport>', /unexpected shape/, 'r.xml')
  })
})

describe('burp', () => {
  it('one_finding: three issues of one type merged into one finding', () => {
    const r = parseFile(burp, 'burp/one_finding.xml')
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.ruleId).toBe('1049088')
    expect(r.findings[0]!.occurrences).toBe(3)
  })

  it('one_finding_with_cwe: unique id, rule id, title, CWE, severity, asset with IP', () => {
    const r = parseFile(burp, 'burp/one_finding_with_cwe.xml')
    const f = r.findings[0]!
    expect(f.uniqueId).toBe('456437653765735')
    expect(f.ruleId).toBe('7340288')
    expect(f.title).toBe('Cacheable HTTPS response')
    expect(f.cwe?.[0]).toBe(524)
    expect(f.severity).toBe('info')
    expect(f.scannerSeverity).toBe('Information')
    expect(f.location).toMatchObject({ url: 'https://example.com/test/v4/public/users/fake', method: 'GET', port: 443 })
    expect(f.remedy).toMatch(/caching directives/)
    expect(r.assets[0]).toMatchObject({ type: 'WEB', attributes: { url: 'https://example.com', fqdn: 'example.com', ip: '54.12.18.21' } })
  })

  it('seven_findings: findings[0] and parameters from the location', () => {
    const r = parseFile(burp, 'burp/seven_findings.xml')
    const f = r.findings[0]!
    expect(f.ruleId).toBe('5245344')
    expect(f.severity).toBe('info')
    expect(f.title).toBe('Frameable response (potential Clickjacking)')
    const withParam = r.findings.find((x) => x.location?.param)
    expect(withParam?.location?.param).toBeTruthy()
    expect(withParam?.location?.param).not.toMatch(/parameter$/)
  })

  it('malformed input → ScanFormatError', () => {
    rejects(burp, '<issues burpVersion="1"><issue><type>1</type><host>https://a.test</host></issue></issues>', /no <name>/, 'r.xml')
    rejects(burp, '<issues burpVersion="1"><issue><type>1</type><name>x</name></issue></issues>', /no <host>/, 'r.xml')
    rejects(burp, '{"issues": []}', /<issues>/)
  })
})

describe('burp_api', () => {
  it('example: five findings, findings[0] fields (DefectDojo test_example_report)', () => {
    const r = parseFile(burpApi, 'burp_api/example.json')
    expect(r.findings).toHaveLength(5)
    const f = r.findings[0]!
    expect(f.severity).toBe('info')
    expect(f.title).toBe('TLS cookie without secure flag set')
    expect(f.uniqueId).toBe('5605602767570803712')
    expect(f.ruleId).toBe('5243392')
    expect(f.extra?.confidence).toBe('certain')
    expect(f.location).toMatchObject({ url: 'https://whitespots.io/build-ssdlc', path: '/build-ssdlc' })
    expect(r.assets[0]!.attributes).toEqual({ url: 'https://whitespots.io', fqdn: 'whitespots.io' })
  })

  it('fix_issue_9128: background and remediation background, method from the evidence', () => {
    const f = parseFile(burpApi, 'burp_api/fix_issue_9128.json').findings[0]!
    expect(f.severity).toBe('low')
    expect(f.description).toMatch(/Issue background data/)
    expect(f.remedy).toBe('remediation background data')
    expect(f.location?.method).toBe('GET')
  })

  it('false_positive severity and non-issue events', () => {
    const r = parseWith(burpApi, doc(JSON.stringify({ task_id: '1', issue_events: [
      { type: 'issue_found', issue: { name: 'X', severity: 'false_positive', origin: 'https://a.test', path: '/p', serial_number: '9' } },
      { type: 'something_else', issue: { name: 'Y' } },
    ] })))
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]).toMatchObject({ status: 'false_positive', severity: 'info', uniqueId: '9' })
  })

  it('malformed input → ScanFormatError', () => {
    rejects(burpApi, '{"task_id": "1"}', /issue_events/)
    rejects(burpApi, '{"issue_events": {}}', /not a list/)
    rejects(burpApi, '{"issue_events": [{"type": "issue_found", "issue": "x"}]}', /not an object/)
    rejects(burpApi, '[{"a": 1}]', /JSON object/)
  })
})

describe('burp_graphql', () => {
  it('one_finding: title, CWE, severity, asset', () => {
    const r = parseFile(burpGraphql, 'burp_graphql/one_finding.json')
    const f = r.findings[0]!
    expect(f.title).toBe('Finding')
    expect(f.cwe).toEqual([79])
    expect(f.severity).toBe('high')
    expect(f.description).toMatch(/description 1/)
    expect(f.remedy).toMatch(/remediation 1/)
    expect(f.location?.url).toBe('https://www.test.com/path')
    expect(r.assets[0]!.attributes).toEqual({ url: 'https://www.test.com', fqdn: 'www.test.com' })
  })

  it('two_findings titles; null_request_segments first CWE 295; null_data still one finding', () => {
    expect(parseFile(burpGraphql, 'burp_graphql/two_findings.json').findings.map((f) => f.title)).toEqual(['Finding 1', 'Finding 2'])
    const f = parseFile(burpGraphql, 'burp_graphql/null_request_segments.json').findings[0]!
    expect(f.cwe?.[0]).toBe(295)
    expect(f.uniqueId).toBeUndefined()
    const nd = parseFile(burpGraphql, 'burp_graphql/null_data.json').findings
    expect(nd).toHaveLength(1)
    expect(nd[0]).toMatchObject({ title: 'Finding', severity: 'high' })
  })

  it('null_title is rejected; no_findings is empty', () => {
    expect(() => parseFile(burpGraphql, 'burp_graphql/null_title.json')).toThrow(/does not have a name/)
    expect(parseFile(burpGraphql, 'burp_graphql/no_findings.json').findings).toHaveLength(0)
  })

  it('issues of one type are merged', () => {
    const issue = (path: string) => ({ issue_type: { name: 'Same' }, severity: 'low', origin: 'https://a.test', path, description_html: `<p>${path}</p>` })
    const r = parseWith(burpGraphql, doc(JSON.stringify({ Issues: [issue('/a'), issue('/b')] })))
    expect(r.findings).toHaveLength(1)
    expect(r.findings[0]!.occurrences).toBe(2)
    expect(r.findings[0]!.extra?.endpoints).toEqual(['https://a.test/a', 'https://a.test/b'])
  })

  it('malformed input → ScanFormatError', () => {
    rejects(burpGraphql, '{"Other": []}', /No "Issues"/i)
    rejects(burpGraphql, '{"Issues": {}}', /not a list/)
    rejects(burpGraphql, '{"Issues": [3]}', /not an object/)
  })
})

describe('burp_dastardly', () => {
  it('many_findings: title, severity, sections, CWE, asset', () => {
    const r = parseFile(burpDastardly, 'burp_dastardly/many_findings.xml')
    const f = r.findings[0]!
    expect(f.title).toBe('Cross-site scripting (reflected) found at https://ginandjuice.shop/catalog')
    expect(f.severity).toBe('high')
    expect(f.ruleId).toBe('Cross-site scripting (reflected)')
    expect(f.cwe).toContain(79)
    expect(f.description).toMatch(/searchTerm request parameter/)
    expect(f.description).not.toMatch(/^Request:/m)
    expect(f.remedy).toMatch(/Echoing user-controllable data/)
    expect(f.references).toContain('https://portswigger.net/web-security/cross-site-scripting')
    expect(f.location).toMatchObject({ url: 'https://ginandjuice.shop/catalog', method: 'GET', port: 443 })
    expect(f.extra?.confidence).toBe('Certain')
    expect(r.findings.map((x) => x.severity)).toEqual(['high', 'info', 'high', 'low'])
    expect(r.findings[3]!.cwe).toEqual([1104])
    expect(r.assets).toEqual([expect.objectContaining({ type: 'WEB', attributes: { url: 'https://ginandjuice.shop', fqdn: 'ginandjuice.shop' } })])
  })

  it('detection needs the Dastardly marker or URL-named suites', () => {
    expect(detectAmong(PARSERS, doc('<testsuites name="unit"><testsuite name="MathTest" failures="0"/></testsuites>', 'r.xml'))).toBeUndefined()
  })

  it('malformed input → ScanFormatError', () => {
    rejects(burpDastardly, '<testsuites name="Dastardly scan results"><testsuite name="https://a.test/" failures="x"><testcase name="t"/></testsuite></testsuites>', /non-numeric/, 'r.xml')
    rejects(burpDastardly, '<testsuites name="Dastardly"><testsuite name="https://a.test/" failures="1"><testcase><failure type="High">x</failure></testcase></testsuite></testsuites>', /no message/, 'r.xml')
    rejects(burpDastardly, '{"testsuites": []}', /testsuites/)
  })
})

describe('acunetix', () => {
  it('acunetix360_one_finding: title, severity, CWE, CVSS, references, unique id, asset', () => {
    const r = parseFile(acunetix, 'acunetix/acunetix360_one_finding.json')
    const f = r.findings[0]!
    expect(f.title).toBe('Cookie Not Marked as HttpOnly')
    expect(f.severity).toBe('medium')
    expect(f.cwe).toEqual([16])
    expect(f.cvss).toEqual({ vector: 'CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:N/A:N/E:H/RL:O/RC:C', score: 5.7, version: '3.0' })
    expect(f.uniqueId).toBe('735f4503-e9eb-4b4c-4306-ad49020a4c4b')
    expect(f.references?.[0]).toBe('https://online.acunetix360.com/issues/detail/735f4503-e9eb-4b4c-4306-ad49020a4c4b')
    expect(f.remedy).toMatch(/Mark the cookie as HTTPOnly/)
    expect(f.location).toMatchObject({ url: 'http://php.testsparker.com/auth/login.php', method: 'GET', port: 80 })
    expect(f.status).toBeUndefined()
    expect(r.assets[0]).toMatchObject({ type: 'WEB', attributes: { url: 'http://php.testsparker.com', fqdn: 'php.testsparker.com' } })
  })

  it('JSON: same name merged; AcceptedRisk / FalsePositive states; unknown severity → info', () => {
    const v = (name: string, state: string, sev = 'High') => ({
      Name: name, Severity: sev, State: state, Url: `http://a.test/${name}`, Classification: null, RemedialProcedure: null,
      RemedyReferences: null, Impact: null, HttpRequest: { Content: '' }, HttpResponse: { Content: '' },
    })
    const r = parseWith(acunetix, doc(JSON.stringify({ Generated: '01/01/2024 10:00 AM', Target: { Url: 'http://a.test/' }, Vulnerabilities: [
      v('A', 'Present, AcceptedRisk'), v('A', 'Present'), v('B', 'FalsePositive'), v('C', 'Present', 'BestPractice'),
    ] })))
    expect(r.findings).toHaveLength(3)
    expect(r.findings[0]).toMatchObject({ title: 'A', status: 'risk_accepted', occurrences: 2 })
    expect(r.findings[1]!.status).toBe('false_positive')
    expect(r.findings[2]!.severity).toBe('info')
  })

  it('XML layout: StartURL without scheme, CWE, CVSS3, references, merge by name + impact + recommendation', () => {
    const item = (affects: string, fp = '') => `<ReportItem><Name>Slow HTTP</Name><Affects>${affects}</Affects><Parameter>q</Parameter>
      <IsFalsePositive>${fp}</IsFalsePositive><Severity>medium</Severity><Type>dos</Type><Impact>I</Impact><Description>&lt;b&gt;D&lt;/b&gt;</Description>
      <Recommendation>R</Recommendation><TechnicalDetails><Request>GET / HTTP/1.1</Request></TechnicalDetails>
      <CWEList><CWE id="400">CWE-400</CWE></CWEList><CVEList><CVE>CVE-2020-1234</CVE></CVEList>
      <CVSS3><Descriptor>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L</Descriptor><Score>5.3</Score></CVSS3>
      <References><Reference><Database>Guide</Database><URL>https://ref.test/x</URL></Reference></References></ReportItem>`
    const xml = `<?xml version="1.0"?><ScanGroup><Scan><Name>s</Name><StartURL>www.itsecgames.com</StartURL><ReportItems>
      ${item('/')}${item('/other')}<ReportItem><Name>Other</Name><Severity>informational</Severity><Description>x</Description><IsFalsePositive>True</IsFalsePositive></ReportItem>
      </ReportItems></Scan></ScanGroup>`
    const d = doc(xml, 'acunetix.xml')
    expect(detectAmong(PARSERS, d)).toBe('acunetix')
    const r = parseWith(acunetix, d)
    expect(r.findings).toHaveLength(2)
    const f = r.findings[0]!
    expect(f).toMatchObject({ title: 'Slow HTTP', severity: 'medium', cwe: [400], vulnerabilityIds: ['CVE-2020-1234'], ruleId: 'dos', occurrences: 2, remedy: 'R' })
    expect(f.cvss).toEqual({ vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L', score: 5.3, version: '3.0' })
    expect(f.references).toEqual(['https://ref.test/x'])
    expect(f.location).toMatchObject({ path: '/', param: 'q', method: 'GET' })
    expect(f.description).toMatch(/^D/)
    expect(r.findings[1]).toMatchObject({ severity: 'info', status: 'false_positive' })
    expect(r.assets).toEqual([expect.objectContaining({ type: 'WEB', attributes: { fqdn: 'www.itsecgames.com' } })])
  })

  it('malformed input → ScanFormatError', () => {
    rejects(acunetix, '{"Generated": "x", "Target": {}, "Vulnerabilities": {}}', /Vulnerabilities/)
    rejects(acunetix, '{"Generated": "x", "Vulnerabilities": [{"Severity": "High"}]}', /no "Name"/)
    rejects(acunetix, '<ScanGroup><Scan><Name>x</Name></Scan></ScanGroup>', /StartURL/, 'r.xml')
    rejects(acunetix, '<Other/>', /expected Acunetix/, 'r.xml')
  })
})

describe('checkmarx', () => {
  it('same sink file, different lines: one aggregated finding (CWE + severity + sink file)', () => {
    const r = parseFile(checkmarx, 'checkmarx/multiple_findings_same_file_different_line_number.xml')
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]!
    expect(f.title).toBe('Reflected XSS All Clients (CrossSiteScriptingLesson5a.java)')
    expect(f.severity).toBe('high')
    expect(f.cwe).toEqual([79])
    expect(f.ruleId).toBe('591')
    expect(f.location).toEqual({ path: 'cross-site-scripting/src/main/java/org/owasp/webgoat/plugin/CrossSiteScriptingLesson5a.java' })
    expect(f.occurrences).toBe(3)
    expect(f.extra?.sinkLines).toEqual([97, 99, 103])
    expect(f.status).toBeUndefined()
    expect(r.assets).toEqual([expect.objectContaining({ type: 'CODE', attributes: { scannerSource: 'Webgoat' } })])
  })

  const cx = (results: string, name = 'SQL_Injection') => `<CxXMLResults ProjectName="P" ScanStart="x"><Query id="1" cweId="89" name="${name}" Severity="High" Language="Java">${results}</Query></CxXMLResults>`
  const res = (file: string, line: number, fp: string, state = '0') => `<Result Severity="High" FalsePositive="${fp}" state="${state}"><Path><PathNode><FileName>${file}</FileName><Line>${line}</Line><Name>o</Name></PathNode></Path></Result>`

  it('false positives: the aggregate only when all its results are; distinct sink files are distinct findings', () => {
    const r = parseWith(checkmarx, doc(cx(res('a/B.java', 1, 'True') + res('a/B.java', 2, 'False', '1') + res('a/C.java', 3, 'True') + res('a/C.java', 4, 'False')), 'cx.xml'))
    expect(r.findings.map((f) => [f.title, f.status])).toEqual([['SQL Injection (B.java)', 'false_positive'], ['SQL Injection (C.java)', undefined]])
  })

  it('malformed input → ScanFormatError', () => {
    rejects(checkmarx, '<CxXMLResults><Query cweId="1"><Result/></Query></CxXMLResults>', /no name/, 'r.xml')
    rejects(checkmarx, '<CxXMLResults>x</CxXMLResults>', /unexpected shape/, 'r.xml')
    rejects(checkmarx, '{"scanResults": []}', /scanResults/)
  })

  it('JSON export: one finding per vulnerability', () => {
    const r = parseWith(checkmarx, doc(JSON.stringify({ scanResults: { sast: { languages: [{ queries: [{ queryName: 'Stored_XSS', vulnerabilities: [
      { severity: 'HIGH', cweId: 79, id: 'v1', status: 'Not exploitable', nodes: [{ fileName: 'a.js', line: 3 }] },
      { severity: 'LOW', cweId: 79, id: 'v2', nodes: [] },
    ] }] }] } } })))
    expect(r.findings).toHaveLength(2)
    expect(r.findings[0]).toMatchObject({ title: 'Stored XSS', severity: 'high', status: 'false_positive', uniqueId: 'v1', location: { path: 'a.js', line: 3 }, tags: ['sast'] })
  })
})
