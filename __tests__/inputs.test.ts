import { describe, expect, it } from '@jest/globals'
import { parseInputs } from '../src/inputs.js'
import { BAD_INPUTS, SOURCE } from './helpers/bad-inputs.js'

const TENANT = '11111111-1111-1111-1111-111111111111'
const CLIENT = '22222222-2222-2222-2222-222222222222'
const POLICY = '33333333-3333-3333-3333-333333333333'

const valid: Record<string, string> = {
  displayName: 'Win11-Dev',
  version: '1.4.0',
  sourceImageResourceId: SOURCE,
  tenantId: TENANT,
  clientId: CLIENT,
  clientSecret: 's3cret'
}

function parse(overrides: Record<string, string | undefined>) {
  const inputs: Record<string, string | undefined> = { ...valid, ...overrides }
  return parseInputs(name => inputs[name] ?? '')
}

describe('parseInputs: valid inputs', () => {
  it('says with a notice that a leading v was dropped from version', () => {
    const parsed = parse({ version: 'v1.4.0' })
    expect(parsed).toMatchObject({
      ok: true,
      notices: [{ title: 'Version prefix dropped', message: 'version "v1.4.0" is read as 1.4.0: image versions have no "v".' }]
    })
  })

  it('applies the defaults of action.yml', () => {
    const parsed = parse({})
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.settings).toMatchObject({
      displayName: 'Win11-Dev',
      version: '1.4.0',
      cloud: 'global',
      graphEndpoint: 'https://graph.microsoft.com',
      authorityHost: 'https://login.microsoftonline.com',
      armEndpoint: 'https://management.azure.com',
      preflight: 'auto',
      onExisting: 'reuse',
      wait: true,
      timeoutMs: 120 * 60_000,
      pollIntervalMs: 60_000,
      maxUploadRetries: 2,
      provisioningPolicyIds: [],
      reprovision: false,
      cloudPcIds: [],
      keepVersions: undefined,
      dryRun: false,
      credentials: { kind: 'clientSecret', tenantId: TENANT, clientId: CLIENT, clientSecret: 's3cret' }
    })
    expect(parsed.warnings).toEqual([])
    expect(parsed.notices).toEqual([])
  })

  it.each([
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/cpc_gallery/images/win11-ent/versions/1.4.0',
    '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/resourcegroups/rg-images/providers/microsoft.compute/Galleries/cpc.gallery/Images/win11-ent/Versions/2026.11.24'
  ])('accepts an Azure Compute Gallery image version, with a notice that gallery sources are in preview: %s', source => {
    const parsed = parse({ sourceImageResourceId: source })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    expect(parsed.settings.sourceImageResourceId).toBe(source)
    expect(parsed.notices).toEqual([{ title: 'Gallery source (preview)', message: expect.stringContaining('preview') }])
  })

  it.each([
    ['trims displayName', { displayName: '  Win11 Dev  ' }, { displayName: 'Win11 Dev' }],
    ['accepts 256 characters', { displayName: 'x'.repeat(256) }, { displayName: 'x'.repeat(256) }],
    ['accepts version 0.0.0', { version: '0.0.0' }, { version: '0.0.0' }],
    [
      'accepts keywords in any case',
      {
        sourceImageResourceId: SOURCE.replace('resourceGroups', 'RESOURCEGROUPS').replace(
          'Microsoft.Compute',
          'microsoft.compute'
        )
      },
      {}
    ],
    [
      'picks usgov hosts',
      { cloud: 'usgov' },
      {
        cloud: 'usgov',
        graphEndpoint: 'https://graph.microsoft.us',
        authorityHost: 'https://login.microsoftonline.us',
        armEndpoint: 'https://management.usgovcloudapi.net'
      }
    ],
    [
      'accepts a loopback http endpoint',
      { graphEndpoint: 'http://127.0.0.1:8080', authorityHost: 'http://localhost:9' },
      { graphEndpoint: 'http://127.0.0.1:8080', authorityHost: 'http://localhost:9' }
    ],
    ['accepts [::1]', { graphEndpoint: 'http://[::1]:8080/' }, { graphEndpoint: 'http://[::1]:8080' }],
    [
      'drops a trailing slash',
      { graphEndpoint: 'https://graph.microsoft.com/' },
      { graphEndpoint: 'https://graph.microsoft.com' }
    ],
    ['accepts decimals', { timeoutMinutes: '0.5', pollIntervalSeconds: '0.25' }, { timeoutMs: 30_000, pollIntervalMs: 250 }],
    ['accepts a leading dot', { timeoutMinutes: '.55' }, { timeoutMs: 33_000 }],
    [
      'accepts the upper bounds',
      { timeoutMinutes: '10080', pollIntervalSeconds: '3600', maxUploadRetries: '10' },
      { timeoutMs: 10080 * 60_000, pollIntervalMs: 3600_000, maxUploadRetries: 10 }
    ],
    [
      'reprovisions cloudPcIds without a policy',
      { reprovision: 'true', cloudPcIds: '44444444-4444-4444-4444-444444444444' },
      { reprovision: true, cloudPcIds: ['44444444-4444-4444-4444-444444444444'], provisioningPolicyIds: [] }
    ],
    ['accepts False', { wait: 'False', dryRun: 'TRUE' }, { wait: false, dryRun: true }],
    ['accepts keepVersions 1', { keepVersions: '1' }, { keepVersions: 1 }],
    ['accepts keepVersions 20', { keepVersions: ' 20 ' }, { keepVersions: 20 }],
    [
      'splits policy IDs on commas and lines, without duplicates',
      { provisioningPolicyIds: `${POLICY},\n ${POLICY.toUpperCase()}\n` },
      { provisioningPolicyIds: [POLICY] }
    ],
    ['takes onExisting in any case', { onExisting: 'Replace' }, { onExisting: 'replace' }],
    ['accepts a domain as tenant', { tenantId: 'contoso.onmicrosoft.com' }, {}],
    ['drops a leading v from version', { version: 'v1.4.0' }, { version: '1.4.0' }],
    ['drops a leading V from version', { version: 'V2.0.10' }, { version: '2.0.10' }],
    ['takes preflight true as required', { preflight: 'TRUE' }, { preflight: 'required' }],
    ['takes preflight false as off', { preflight: 'false' }, { preflight: 'off' }],
    ['accepts a loopback ARM endpoint', { armEndpoint: 'http://127.0.0.1:9/' }, { armEndpoint: 'http://127.0.0.1:9' }],
    [
      'accepts the matching public hosts of usgov',
      { cloud: 'usgov', graphEndpoint: 'https://graph.microsoft.us', armEndpoint: 'https://management.usgovcloudapi.net' },
      { cloud: 'usgov' }
    ]
  ])('%s', (_name, overrides, expected) => {
    const parsed = parse(overrides)
    expect(parsed).toMatchObject({ ok: true, settings: expected })
  })

  it.each([
    ['accessToken wins over the others', { accessToken: 'eyJ.x.y' }, { kind: 'accessToken' }],
    [
      'tenantId and clientId alone mean GitHub OIDC',
      { clientSecret: '' },
      { kind: 'oidc', audience: 'api://AzureADTokenExchange' }
    ],
    ['no credentials at all mean the Azure CLI session', { tenantId: '', clientId: '', clientSecret: '' }, { kind: 'azureCli' }]
  ])('%s', (_name, overrides, expected) => {
    expect(parse(overrides)).toMatchObject({ ok: true, settings: { credentials: expected } })
  })

  it('warns about a short poll interval against a real endpoint only', () => {
    expect(parse({ pollIntervalSeconds: '5' })).toMatchObject({
      ok: true,
      warnings: [expect.stringContaining('pollIntervalSeconds')]
    })
    expect(parse({ pollIntervalSeconds: '5', graphEndpoint: 'http://127.0.0.1:1' })).toMatchObject({ ok: true, warnings: [] })
    expect(parse({ pollIntervalSeconds: '10' })).toMatchObject({ ok: true, warnings: [] })
  })
})

describe('parseInputs: invalid inputs', () => {
  it.each(BAD_INPUTS)('%s %j is refused', (input, overrides, message) => {
    const parsed = parse(overrides)
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.errors).toContainEqual({ input, message: expect.stringMatching(message) })
  })

  it('reports every bad input at once', () => {
    const parsed = parse({ displayName: '', version: 'x', wait: 'maybe', cloud: 'mars' })
    expect(parsed.ok).toBe(false)
    if (parsed.ok) return
    expect(parsed.errors.map(e => e.input).sort()).toEqual(['cloud', 'displayName', 'version', 'wait'])
  })

  it('never repeats a secret in an error', () => {
    const parsed = parse({ clientSecret: 'p@ss-w0rd-value', tenantId: '', clientId: '' })
    expect(JSON.stringify(parsed)).not.toContain('p@ss-w0rd-value')
  })
})

describe('parseInputs: endpoints only of the supported clouds, or loopback', () => {
  const INPUTS = ['graphEndpoint', 'authorityHost', 'armEndpoint'] as const
  const DOCUMENTED = {
    global: {
      graphEndpoint: 'https://graph.microsoft.com',
      authorityHost: 'https://login.microsoftonline.com',
      armEndpoint: 'https://management.azure.com'
    },
    usgov: {
      graphEndpoint: 'https://graph.microsoft.us',
      authorityHost: 'https://login.microsoftonline.us',
      armEndpoint: 'https://management.usgovcloudapi.net'
    }
  }
  const HOSTILE: [what: string, graph: string][] = [
    ['another host', 'https://graph.contoso.example'],
    ['a documented host as a prefix', 'https://graph.microsoft.com.evil.example'],
    ['a trailing dot', 'https://graph.microsoft.com./'],
    ['a trailing dot written %2e', 'https://graph.microsoft.com%2e'],
    ['another port', 'https://graph.microsoft.com:8443'],
    ['a Cyrillic look-alike (U+0430), read as punycode', 'https://gr\u0430ph.microsoft.com'],
    ['punycode written out', 'https://xn--grph-63d.microsoft.com'],
    ['a sub-domain', 'https://evil.graph.microsoft.com'],
    ['a host cmd.exe would read as two commands', 'https://x&calc.exe'],
    ['a public IP address', 'https://20.190.160.1'],
    ['a documented host of the DoD cloud, which has no image API', 'https://dod-graph.microsoft.us']
  ]

  it.each(HOSTILE)('refuses %s: %s', (_what, graph) => {
    const parsed = parse({ graphEndpoint: graph })
    expect(parsed).toMatchObject({
      ok: false,
      errors: [
        {
          input: 'graphEndpoint',
          message: expect.stringMatching(
            /^graphEndpoint must be https:\/\/graph\.microsoft\.com \(global\) or https:\/\/graph\.microsoft\.us \(usgov\), or a loopback URL/
          )
        }
      ]
    })
  })

  it('says which host it read, so a look-alike shows', () => {
    expect(parse({ graphEndpoint: 'https://gr\u0430ph.microsoft.com' })).toEqual({
      ok: false,
      errors: [
        {
          input: 'graphEndpoint',
          message:
            'graphEndpoint must be https://graph.microsoft.com (global) or https://graph.microsoft.us (usgov), or a loopback URL (http:// or https:// to 127.0.0.0/8, localhost or [::1], any port); got "https://gr\u0430ph.microsoft.com" (host xn--grph-63d.microsoft.com).'
        }
      ]
    })
  })

  it.each([
    [
      'authorityHost',
      'https://login.microsoftonline.com.evil.example',
      /https:\/\/login\.microsoftonline\.com \(global\) or https:\/\/login\.microsoftonline\.us \(usgov\)/
    ],
    ['authorityHost', 'https://login.microsoftonline.com:444', /host login\.microsoftonline\.com:444/],
    ['authorityHost', 'https://login.windows.net', /login\.microsoftonline\.com/],
    [
      'armEndpoint',
      'https://management.azure.com.',
      /https:\/\/management\.azure\.com \(global\) or https:\/\/management\.usgovcloudapi\.net \(usgov\)/
    ],
    // Each input takes only its own service: a Graph token is not sent to the sign-in host.
    ['graphEndpoint', 'https://login.microsoftonline.com', /graph\.microsoft\.com/],
    ['armEndpoint', 'https://graph.microsoft.com', /management\.azure\.com/]
  ])('refuses %s %s, naming the hosts it takes', (input, url, message) => {
    expect(parse({ [input]: url })).toMatchObject({
      ok: false,
      errors: [{ input, message: expect.stringMatching(message) }]
    })
  })

  it.each([
    'https://user@graph.microsoft.com',
    'https://user:pw@graph.microsoft.com/',
    'https://graph.microsoft.com/?x=1',
    'https://graph.microsoft.com/#x'
  ])('refuses a documented host with credentials, a query or a fragment: %s', graph => {
    expect(parse({ graphEndpoint: graph })).toMatchObject({
      ok: false,
      errors: [{ input: 'graphEndpoint', message: expect.stringContaining('root URL only') }]
    })
  })

  it.each(['global', 'usgov'] as const)('takes every documented host of %s, also with :443 and in capitals', cloud => {
    const hosts = DOCUMENTED[cloud]
    expect(parse({ cloud, ...hosts })).toMatchObject({ ok: true, settings: hosts })
    const spelled = Object.fromEntries(INPUTS.map(input => [input, `${hosts[input].toUpperCase()}:443/`]))
    expect(parse({ cloud, ...spelled })).toMatchObject({ ok: true, settings: hosts })
  })

  it.each([
    'http://127.0.0.1:8080',
    'https://127.0.0.1:8443',
    'http://127.3.4.5:1',
    'http://localhost:3000',
    'https://localhost:65535',
    'http://[::1]:9',
    'https://[::1]:443',
    'http://127.0.0.1'
  ])('takes the loopback endpoint %s for every input', url => {
    const origin = new URL(url).origin
    const endpoints = Object.fromEntries(INPUTS.map(input => [input, url]))
    expect(parse(endpoints)).toMatchObject({
      ok: true,
      settings: { graphEndpoint: origin, authorityHost: origin, armEndpoint: origin }
    })
  })
})
