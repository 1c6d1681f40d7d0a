// `tsx scripts/graph-metadata.ts --from DIR [--commit SHA]` writes conformance/msgraph-metadata/
// beta-type-mappings.json: the part of Microsoft's Graph metadata (microsoftgraph/msgraph-metadata,
// MIT) that covers the types and enums the action and the emulator use. DIR holds copies of that
// repository's schemas/type-mappings/beta-entity-types.json, beta-complex-types.json and
// beta-enum-types.json. `--check` exits 1 when the committed slice differs from what DIR gives.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { ROOT } from './runner.js'

export const METADATA_PATH = join(ROOT, 'conformance', 'msgraph-metadata', 'beta-type-mappings.json')
const NAMESPACE = 'microsoft.graph'
const FILES = {
  entityTypes: 'schemas/type-mappings/beta-entity-types.json',
  complexTypes: 'schemas/type-mappings/beta-complex-types.json',
  enumTypes: 'schemas/type-mappings/beta-enum-types.json'
} as const

/** Entity and complex types the action sends or the emulator renders, by Graph's names. */
export const USED_TYPES = ['cloudPcDeviceImage', 'cloudPcProvisioningPolicy', 'cloudPC', 'cloudPcRemoteActionResult']

/** Enums those types use for the properties the action or the emulator touch, and the reprovision parameters. */
export const USED_ENUMS = [
  'cloudPcDeviceImageStatus',
  'cloudPcDeviceImageErrorCode',
  'cloudPcDeviceImageOsStatus',
  'cloudPcProvisioningPolicyImageType',
  'cloudPcStatus',
  'actionState',
  'cloudPcOperatingSystem',
  'cloudPcUserAccountType'
]

/** Base types whose properties the used types inherit (the type mappings list only a type's own). */
export const BASE_TYPES = ['entity']

export interface MappedType {
  properties: string[]
  navigationProperties: string[]
}

export interface MetadataSlice {
  source: { repository: string; commit: string; files: string[]; license: string }
  /** Graph type name → its own properties, as the metadata lists them (base types separately). */
  types: Record<string, MappedType>
  /** Enum name → members, in the metadata's (alphabetical) order. */
  enums: Record<string, string[]>
}

export function readMetadataSlice(): MetadataSlice {
  return JSON.parse(readFileSync(METADATA_PATH, 'utf8')) as MetadataSlice
}

async function buildMetadataSlice(dir: string, commit: string): Promise<string> {
  const read = (file: string): Record<string, unknown> => {
    const all = JSON.parse(readFileSync(join(dir, file.split('/').pop()!), 'utf8')) as Record<string, Record<string, unknown>>
    const namespace = all[NAMESPACE]
    if (!namespace) throw new Error(`${file} has no ${NAMESPACE} namespace`)
    return namespace
  }
  const entities = read(FILES.entityTypes)
  const complexes = read(FILES.complexTypes)
  const enums = read(FILES.enumTypes)
  const types: Record<string, MappedType> = {}
  for (const name of [...BASE_TYPES, ...USED_TYPES]) {
    const mapped = (entities[name] ?? complexes[name]) as MappedType | undefined
    if (!mapped) throw new Error(`The metadata declares no type ${name}`)
    types[name] = { properties: mapped.properties, navigationProperties: mapped.navigationProperties }
  }
  const slice: MetadataSlice = {
    source: {
      repository: 'microsoftgraph/msgraph-metadata',
      commit,
      files: Object.values(FILES),
      license: 'MIT; see LICENSE beside this file'
    },
    types,
    enums: Object.fromEntries(
      USED_ENUMS.map(name => {
        const members = enums[name]
        if (!Array.isArray(members)) throw new Error(`The metadata declares no enum ${name}`)
        return [name, members as string[]]
      })
    )
  }
  const options = (await prettier.resolveConfig(METADATA_PATH)) ?? {}
  return prettier.format(JSON.stringify(slice), { ...options, filepath: METADATA_PATH })
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)
if (isMain) {
  const args = process.argv.slice(2)
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name)
    return at >= 0 ? args[at + 1] : undefined
  }
  const dir = option('--from')
  if (!dir) {
    console.error('usage: tsx scripts/graph-metadata.ts --from DIR [--commit SHA] [--check]')
    process.exit(2)
  }
  let current = ''
  try {
    current = readFileSync(METADATA_PATH, 'utf8')
  } catch {
    // A missing slice differs like any other.
  }
  const commit = option('--commit') ?? (current ? readMetadataSlice().source.commit : 'unknown')
  const wanted = await buildMetadataSlice(dir, commit)
  if (args.includes('--check')) {
    if (wanted !== current) {
      console.error(`${METADATA_PATH} differs from what ${dir} gives: run without --check to write it.`)
      process.exit(1)
    }
  } else writeFileSync(METADATA_PATH, wanted)
}
