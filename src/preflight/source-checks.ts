// The documented Windows 365 source-image requirements that Azure Resource Manager shows, each a
// pure check of what ARM returned. Only documented requirements are checked ("Device images
// overview" and "Add device images", docs/graph-facts.md#source-image-requirements); each names the errorCode the
// service would give after its upload and validation, which take up to an hour or more.

import { textOf } from '../core/untrusted-text.js'

export interface SourceCheck {
  name: string
  /** The requirement and where Microsoft states it. */
  requirement: string
  passed: boolean
  /** What ARM reports, in its own property names. */
  reported: string
  /** The errorCode the upload would fail with. */
  errorCode: string
  fix: string
}

/** The ARM properties the checks read (managed image, api-version 2024-07-01). */
export interface ArmManagedImage {
  id?: string
  properties?: {
    hyperVGeneration?: string | null
    storageProfile?: {
      osDisk?: { osType?: string | null; osState?: string | null; diskEncryptionSet?: { id?: string | null } | null } | null
      dataDisks?: unknown[] | null
    } | null
  } | null
}

/** An Azure Compute Gallery image definition (api-version 2023-07-03). */
export interface ArmGalleryImage {
  id?: string
  properties?: {
    osType?: string | null
    osState?: string | null
    hyperVGeneration?: string | null
    architecture?: string | null
    features?: { name?: string | null; value?: string | null }[] | null
  } | null
}

/** An Azure Compute Gallery image version (api-version 2023-07-03). */
export interface ArmGalleryImageVersion {
  id?: string
  properties?: {
    storageProfile?: { dataDiskImages?: unknown[] | null } | null
    publishingProfile?: {
      targetRegions?: { name?: string | null; encryption?: Record<string, unknown> | null }[] | null
    } | null
  } | null
}

const OVERVIEW = 'Windows 365 "Device images overview"'
const same = (a: unknown, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase()
const isAbsent = (value: unknown) => value === undefined || value === null || value === ''
const shown = (value: unknown) => (isAbsent(value) ? 'nothing' : textOf(value))

function windows(osType: unknown): SourceCheck {
  return {
    name: 'Windows',
    requirement: `a Windows 10 or 11 Enterprise image (${OVERVIEW})`,
    passed: same(osType, 'Windows'),
    reported: `osType ${shown(osType)}`,
    errorCode: 'osVersionNotSupported',
    fix: 'Capture the image from a Windows 10 or 11 Enterprise VM.'
  }
}

function generalized(osState: unknown): SourceCheck {
  return {
    name: 'Generalized',
    requirement: `a generalized image: Sysprep run before the capture (${OVERVIEW})`,
    passed: same(osState, 'Generalized'),
    reported: `osState ${shown(osState)}`,
    errorCode: 'sourceImageNotGeneralized',
    fix: 'Run Sysprep with /generalize /oobe /shutdown on the VM, then capture it again as a generalized image.'
  }
}

function generation2(hyperVGeneration: unknown): SourceCheck {
  return {
    name: 'Generation 2',
    requirement: `a generation 2 VM image (${OVERVIEW})`,
    passed: same(hyperVGeneration, 'V2'),
    reported: `hyperVGeneration ${shown(hyperVGeneration)}`,
    errorCode: 'sourceImageInvalid',
    fix: 'Build the image on a generation 2 VM (a Gen2 Windows Enterprise Marketplace image) and capture it again; a generation 1 image cannot be converted.'
  }
}

function noDataDisks(count: number): SourceCheck {
  return {
    name: 'No data disks',
    requirement: `no data disks in the image (${OVERVIEW})`,
    passed: count === 0,
    reported: `${count} data disk${count === 1 ? '' : 's'}`,
    errorCode: 'sourceImageWithDataDiskNotSupported',
    fix: 'Detach the data disks from the VM before the capture, or capture the OS disk only.'
  }
}

function noDiskEncryptionSet(encrypted: string[]): SourceCheck {
  return {
    name: 'No disk encryption set',
    requirement: `disks without a customer-managed disk encryption set (${OVERVIEW})`,
    passed: encrypted.length === 0,
    reported: encrypted.length === 0 ? 'no disk encryption set' : `disk encryption set on ${encrypted.join(', ')}`,
    errorCode: 'sourceImageWithDiskEncryptionSetNotSupported',
    fix: 'Capture from a VM whose disks use platform-managed keys, and publish without a disk encryption set.'
  }
}

const count = (list: unknown): number => (Array.isArray(list) ? list.length : 0)

export function checkManagedImage(image: ArmManagedImage): SourceCheck[] {
  const properties = image.properties
  const osDisk = properties?.storageProfile?.osDisk
  return [
    windows(osDisk?.osType),
    generalized(osDisk?.osState),
    generation2(properties?.hyperVGeneration),
    noDataDisks(count(properties?.storageProfile?.dataDisks)),
    noDiskEncryptionSet(osDisk?.diskEncryptionSet?.id ? ['the OS disk'] : [])
  ]
}

export function checkGalleryImageVersion(version: ArmGalleryImageVersion, definition: ArmGalleryImage): SourceCheck[] {
  const def = definition.properties
  const securityType = def?.features?.find(f => same(f.name, 'SecurityType'))?.value
  const encrypted = (version.properties?.publishingProfile?.targetRegions ?? [])
    .filter(region => region.encryption && Object.keys(region.encryption).length > 0)
    .map(region => `the replica in ${shown(region.name)}`)
  return [
    windows(def?.osType),
    generalized(def?.osState),
    generation2(def?.hyperVGeneration),
    {
      name: 'x64',
      requirement: 'an x64 image definition (Windows 365 "Add device images", Azure Compute Gallery)',
      // Optional in the Azure REST spec and absent from all its examples: not shown is no verdict.
      passed: isAbsent(def?.architecture) || same(def?.architecture, 'x64'),
      reported: isAbsent(def?.architecture)
        ? 'architecture not shown (optional in Azure Resource Manager; not held against the image)'
        : `architecture ${shown(def?.architecture)}`,
      errorCode: 'sourceImageInvalid',
      fix: 'Publish the version under an image definition with the x64 architecture.'
    },
    {
      name: 'Trusted Launch',
      requirement: `an Azure Compute Gallery image definition with the security type set to Trusted Launch (${OVERVIEW})`,
      passed: same(securityType, 'TrustedLaunch'),
      reported: `SecurityType ${shown(securityType)}`,
      errorCode: 'sourceImageInvalid',
      fix: 'Publish the version under an image definition whose security type is TrustedLaunch (a definition cannot be changed once created).'
    },
    noDataDisks(count(version.properties?.storageProfile?.dataDiskImages)),
    noDiskEncryptionSet(encrypted)
  ]
}
