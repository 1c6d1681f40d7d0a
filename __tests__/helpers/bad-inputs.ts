// Wrong forms of every input: each must fail before any request, with an error naming the input.
export const SOURCE =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev'
const POLICY = '33333333-3333-3333-3333-333333333333'

export const BAD_INPUTS: [input: string, overrides: Record<string, string>, message: RegExp][] = [
  ['displayName', { displayName: '' }, /displayName is required/],
  ['displayName', { displayName: '   ' }, /displayName is required/],
  ['displayName', { displayName: 'x'.repeat(257) }, /at most 256/],
  ['displayName', { displayName: 'bad\u0007name' }, /control characters/],
  ['version', { version: '' }, /version is required/],
  ['version', { version: '1.4' }, /major\.minor\.patch/],
  ['version', { version: '01.4.0' }, /leading zeros/],
  ['version', { version: '1.4.0-beta' }, /major\.minor\.patch/],
  ['version', { version: 'v1.4' }, /major\.minor\.patch.*got "v1\.4"/],
  ['version', { version: 'vv1.4.0' }, /major\.minor\.patch/],
  ['sourceImageResourceId', { sourceImageResourceId: '' }, /is required/],
  ['sourceImageResourceId', { sourceImageResourceId: 'win11-dev' }, /managed image ID/],
  [
    'sourceImageResourceId',
    { sourceImageResourceId: SOURCE.replace('Microsoft.Compute/images', 'Microsoft.Storage/images') },
    /managed image ID/
  ],
  [
    'sourceImageResourceId',
    { sourceImageResourceId: SOURCE.replace('00000000-0000-0000-0000-000000000000', 'my-sub') },
    /not a GUID/
  ],
  [
    'sourceImageResourceId',
    {
      sourceImageResourceId:
        '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d'
    },
    /Compute Gallery resource but not an image version/
  ],
  [
    'sourceImageResourceId',
    {
      sourceImageResourceId:
        '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/latest'
    },
    /not an image version/
  ],
  ['tenantId', { tenantId: 'not a tenant' }, /GUID\) or a verified domain/],
  ['clientId', { clientId: 'my-app' }, /application \(client\) ID, a GUID/],
  ['clientId', { clientId: '' }, /clientId is required with tenantId/],
  ['tenantId', { tenantId: '' }, /tenantId is required with clientId/],
  ['clientSecret', { tenantId: '', clientId: '' }, /clientSecret needs tenantId and clientId/],
  ['cloud', { cloud: 'china' }, /not offered in .*China/],
  ['cloud', { cloud: 'azure' }, /global or usgov/],
  ['graphEndpoint', { graphEndpoint: 'http://graph.example.com' }, /https:\/\/.*loopback/],
  ['graphEndpoint', { graphEndpoint: 'http://10.0.0.1' }, /loopback/],
  ['graphEndpoint', { graphEndpoint: 'graph.microsoft.com' }, /absolute URL/],
  ['graphEndpoint', { graphEndpoint: 'ftp://127.0.0.1:21' }, /must use https:\/\//],
  ['graphEndpoint', { graphEndpoint: 'https://graph.microsoft.com/beta' }, /root URL only/],
  ['authorityHost', { authorityHost: 'http://login.example.com' }, /https:\/\//],
  ['onExisting', { onExisting: 'overwrite' }, /reuse, update, replace or fail/],
  ['wait', { wait: 'yes' }, /true or false/],
  ['dryRun', { dryRun: '1' }, /true or false/],
  ['reprovision', { reprovision: 'on' }, /true or false/],
  ['timeoutMinutes', { timeoutMinutes: '0' }, /greater than 0/],
  ['timeoutMinutes', { timeoutMinutes: '-5' }, /greater than 0/],
  ['timeoutMinutes', { timeoutMinutes: 'ten' }, /greater than 0/],
  ['timeoutMinutes', { timeoutMinutes: '100000' }, /at most 10080/],
  ['pollIntervalSeconds', { pollIntervalSeconds: '0' }, /greater than 0/],
  ['pollIntervalSeconds', { pollIntervalSeconds: '3601' }, /at most 3600/],
  ['timeoutMinutes', { timeoutMinutes: '1.5x' }, /decimals allowed/],
  ['timeoutMinutes', { timeoutMinutes: 'x.5' }, /decimals allowed/],
  ['timeoutMinutes', { timeoutMinutes: '.5.5' }, /decimals allowed/],
  ['timeoutMinutes', { timeoutMinutes: '5.' }, /decimals allowed/],
  ['maxUploadRetries', { maxUploadRetries: '-1' }, /whole number/],
  ['maxUploadRetries', { maxUploadRetries: '1.5' }, /whole number/],
  ['maxUploadRetries', { maxUploadRetries: '11' }, /from 0 to 10/],
  ['keepVersions', { keepVersions: '0' }, /keepVersions must be a whole number from 1 to 20/],
  ['keepVersions', { keepVersions: '21' }, /from 1 to 20/],
  ['keepVersions', { keepVersions: '2.5' }, /whole number/],
  ['keepVersions', { keepVersions: 'three' }, /whole number.*got "three"/],
  ['keepVersions', { keepVersions: '-3' }, /whole number/],
  ['provisioningPolicyIds', { provisioningPolicyIds: 'policy-1' }, /not a GUID: policy-1/],
  ['cloudPcIds', { cloudPcIds: 'abc' }, /not a GUID/],
  ['cloudPcIds', { cloudPcIds: POLICY }, /set reprovision: true/],
  ['cloud', { cloud: 'usgovdod' }, /not offered in US Government L5/],
  ['reprovision', { reprovision: 'true' }, /nothing to reprovision/],
  ['provisioningPolicyIds', { provisioningPolicyIds: POLICY, wait: 'false' }, /needs the image to be ready/],
  [
    'reprovision',
    { reprovision: 'true', cloudPcIds: '44444444-4444-4444-4444-444444444444', wait: 'false' },
    /needs the image to be ready/
  ],
  ['excludeCloudPcIds', { excludeCloudPcIds: 'pc-1' }, /excludeCloudPcIds must list Cloud PC IDs \(GUIDs\).*not a GUID: pc-1/],
  ['reprovisionWaves', { reprovisionWaves: '10%,5%' }, /reprovisionWaves .*5% is not larger than 10%/],
  ['reprovisionWaves', { reprovisionWaves: '5,5' }, /5 is not larger than 5/],
  ['reprovisionWaves', { reprovisionWaves: '10%,20' }, /the count 20 follows a percentage: put counts first/],
  ['reprovisionWaves', { reprovisionWaves: '1,,10%' }, /an entry is empty/],
  ['reprovisionWaves', { reprovisionWaves: 'canary' }, /"canary" is neither a count/],
  ['reprovisionWaves', { reprovisionWaves: '0,10%' }, /"0" is neither a count of at least 1/],
  ['reprovisionWaves', { reprovisionWaves: '150%' }, /at most 100/],
  ['reprovisionWaves', { reprovisionWaves: '1,2,3,4,5,6,7,8,9,10,11' }, /at most 10 targets/],
  [
    'reprovisionTimeoutMinutes',
    { reprovisionTimeoutMinutes: '-1' },
    /reprovisionTimeoutMinutes must be a number of minutes from 0/
  ],
  ['reprovisionTimeoutMinutes', { reprovisionTimeoutMinutes: 'forever' }, /from 0 and at most 10080/],
  [
    'reprovisionTimeoutMinutes',
    { reprovisionTimeoutMinutes: '0', reprovisionWaves: '1,10%' },
    /reprovisionTimeoutMinutes is 0 \(do not wait\), but reprovisionWaves "1,10%" asks for several waves/
  ],
  ['maxReprovisionFailures', { maxReprovisionFailures: '-1' }, /maxReprovisionFailures must be a whole number from 0/],
  ['maxReprovisionFailures', { maxReprovisionFailures: '1.5' }, /whole number/],
  ['maxReprovisionFailures', { maxReprovisionFailures: 'some' }, /got "some"/],
  ['preflight', { preflight: 'yes' }, /preflight must be auto .*, true .* or false .*; got "yes"/],
  ['armEndpoint', { armEndpoint: 'https://management.azure.com/subscriptions' }, /armEndpoint must be the root URL only/],
  ['armEndpoint', { armEndpoint: 'http://management.example.com' }, /armEndpoint must use https:\/\//],
  [
    'armEndpoint',
    { cloud: 'usgov', armEndpoint: 'https://management.azure.com' },
    /belongs to the global cloud, but cloud is usgov/
  ],
  [
    'graphEndpoint',
    { cloud: 'usgov', graphEndpoint: 'https://graph.microsoft.com' },
    /graphEndpoint https:\/\/graph\.microsoft\.com belongs to the global cloud, but cloud is usgov: use https:\/\/graph\.microsoft\.us/
  ],
  ['authorityHost', { authorityHost: 'https://login.microsoftonline.us' }, /belongs to the usgov cloud, but cloud is global/],
  // Hosts a secret or token must never go to: only the documented hosts of the supported clouds, or loopback.
  [
    'graphEndpoint',
    { graphEndpoint: 'https://graph.microsoft.com.evil.example' },
    /graphEndpoint must be https:\/\/graph\.microsoft\.com \(global\)/
  ],
  ['graphEndpoint', { graphEndpoint: 'https://graph.microsoft.com./' }, /host graph\.microsoft\.com\.\)/],
  ['graphEndpoint', { graphEndpoint: 'https://graph.microsoft.com:8443' }, /host graph\.microsoft\.com:8443\)/],
  ['graphEndpoint', { graphEndpoint: 'https://gr\u0430ph.microsoft.com' }, /host xn--grph-63d\.microsoft\.com\)/],
  ['graphEndpoint', { graphEndpoint: 'https://user@graph.microsoft.com' }, /root URL only/],
  ['graphEndpoint', { graphEndpoint: 'https://x&calc.exe' }, /graphEndpoint must be https:\/\/graph\.microsoft\.com/],
  [
    'authorityHost',
    { authorityHost: 'https://login.microsoftonline.com.evil.example' },
    /authorityHost must be https:\/\/login\.microsoftonline\.com \(global\)/
  ],
  [
    'armEndpoint',
    { armEndpoint: 'https://management.azure.com:8443' },
    /armEndpoint must be https:\/\/management\.azure\.com \(global\)/
  ]
]
