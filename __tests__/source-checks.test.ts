// The source-image checks as pure functions of what Azure Resource Manager returned.

import { describe, expect, it } from '@jest/globals'
import { checkGalleryImageVersion, checkManagedImage } from '../src/preflight/source-checks.js'

const passing = {
  properties: {
    hyperVGeneration: 'V2',
    storageProfile: { osDisk: { osType: 'Windows', osState: 'Generalized' }, dataDisks: [] }
  }
}
const definition = {
  properties: {
    osType: 'Windows',
    osState: 'Generalized',
    hyperVGeneration: 'V2',
    architecture: 'x64',
    features: [{ name: 'SecurityType', value: 'TrustedLaunch' }]
  }
}
const failed = (checks: { name: string; passed: boolean }[]) => checks.filter(c => !c.passed).map(c => c.name)

describe('managed image', () => {
  it('passes a Windows, generalized, generation 2 image without data disks or disk encryption set', () => {
    expect(failed(checkManagedImage(passing))).toEqual([])
  })

  it('compares ARM values case-insensitively', () => {
    const lower = {
      properties: { hyperVGeneration: 'v2', storageProfile: { osDisk: { osType: 'windows', osState: 'generalized' } } }
    }
    expect(failed(checkManagedImage(lower))).toEqual([])
  })

  it('fails every requirement ARM cannot show as met, naming what it reports', () => {
    const checks = checkManagedImage({})
    expect(failed(checks)).toEqual(['Windows', 'Generalized', 'Generation 2'])
    expect(checks.map(c => c.reported)).toEqual([
      'osType nothing',
      'osState nothing',
      'hyperVGeneration nothing',
      '0 data disks',
      'no disk encryption set'
    ])
  })

  it('names each violation with the errorCode the upload would give', () => {
    const checks = checkManagedImage({
      properties: {
        hyperVGeneration: 'V1',
        storageProfile: {
          osDisk: { osType: 'Windows', osState: 'Specialized', diskEncryptionSet: { id: '/subscriptions/x/des' } },
          dataDisks: [{}, {}]
        }
      }
    })
    expect(checks.filter(c => !c.passed).map(c => [c.name, c.reported, c.errorCode])).toEqual([
      ['Generalized', 'osState Specialized', 'sourceImageNotGeneralized'],
      ['Generation 2', 'hyperVGeneration V1', 'sourceImageInvalid'],
      ['No data disks', '2 data disks', 'sourceImageWithDataDiskNotSupported'],
      ['No disk encryption set', 'disk encryption set on the OS disk', 'sourceImageWithDiskEncryptionSetNotSupported']
    ])
    for (const check of checks) expect(check.requirement).toMatch(/Windows 365 "(Device images overview|Add device images)"/)
  })
})

describe('gallery image version', () => {
  it('passes a version of a Windows x64 generation 2 Trusted Launch definition', () => {
    expect(failed(checkGalleryImageVersion({ properties: {} }, definition))).toEqual([])
  })

  it('accepts the security type in any casing, and only Trusted Launch', () => {
    const withType = (value: string) => ({
      properties: { ...definition.properties, features: [{ name: 'securitytype', value }] }
    })
    expect(failed(checkGalleryImageVersion({}, withType('trustedlaunch')))).toEqual([])
    expect(failed(checkGalleryImageVersion({}, withType('TrustedLaunchSupported')))).toEqual(['Trusted Launch'])
    expect(failed(checkGalleryImageVersion({}, withType('Standard')))).toEqual(['Trusted Launch'])
  })

  it('fails data disk images and any target-region encryption, naming the regions', () => {
    const version = {
      properties: {
        storageProfile: { dataDiskImages: [{}] },
        publishingProfile: {
          targetRegions: [
            { name: 'West Europe', encryption: {} },
            { name: 'North Europe', encryption: { dataDiskImages: [{ lun: 0, diskEncryptionSetId: 'des' }] } }
          ]
        }
      }
    }
    const checks = checkGalleryImageVersion(version, definition)
    expect(failed(checks)).toEqual(['No data disks', 'No disk encryption set'])
    expect(checks.find(c => c.name === 'No disk encryption set')!.reported).toBe(
      'disk encryption set on the replica in North Europe'
    )
  })

  it('fails a definition ARM shows nothing of, except on the optional architecture', () => {
    expect(failed(checkGalleryImageVersion({}, {}))).toEqual(['Windows', 'Generalized', 'Generation 2', 'Trusted Launch'])
  })

  it('holds no verdict on an architecture ARM leaves out, and fails Arm64', () => {
    const definition = (architecture?: string | null) => ({ properties: { architecture } })
    for (const absent of [undefined, null, ''])
      expect(checkGalleryImageVersion({}, definition(absent)).find(c => c.name === 'x64')).toMatchObject({
        passed: true,
        reported: expect.stringContaining('not shown')
      })
    expect(checkGalleryImageVersion({}, definition('Arm64')).find(c => c.name === 'x64')?.passed).toBe(false)
    expect(checkGalleryImageVersion({}, definition('X64')).find(c => c.name === 'x64')?.passed).toBe(true)
  })
})
