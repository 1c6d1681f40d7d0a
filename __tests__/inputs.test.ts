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
    ],
    ['accepts a host no cloud claims', { graphEndpoint: 'https://graph.contoso.example' }, {}]
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
