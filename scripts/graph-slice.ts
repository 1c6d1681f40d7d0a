// `tsx scripts/graph-slice.ts` writes conformance/graph-beta-slice.json: the part of Microsoft's
// published Graph beta types that the action and the emulator use, plus what Microsoft's metadata
// declares after that package (conformance/later-members.json). `--check` only exits 1 when the
// committed slice differs from what the installed package gives.

import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as prettier from 'prettier'
import ts from 'typescript'
import { ROOT } from './runner.js'

export const PACKAGE = '@microsoft/microsoft-graph-types-beta'
export const SLICE_PATH = join(ROOT, 'conformance', 'graph-beta-slice.json')
const LATER_PATH = join(ROOT, 'conformance', 'later-members.json')

/** Entity and complex types the action sends or the emulator renders, by the package's names. */
const USED_TYPES = ['CloudPcDeviceImage', 'CloudPcProvisioningPolicy', 'CloudPC', 'CloudPcRemoteActionResult']

/** Enums those types use for the properties the action or the emulator touch, and the reprovision parameters. */
const USED_ENUMS = [
  'CloudPcDeviceImageStatus',
  'CloudPcDeviceImageErrorCode',
  'CloudPcDeviceImageOsStatus',
  'CloudPcProvisioningPolicyImageType',
  'CloudPcStatus',
  'ActionState',
  'CloudPcOperatingSystem',
  'CloudPcUserAccountType'
]

export interface SliceType {
  /** Base types, nearest first. */
  extends: string[]
  /** Property name → value type: a primitive, a slice enum or type, another Graph type's name; `[]` for a collection. */
  properties: Record<string, string>
  /** Properties taken from later-members.json, with their source. */
  later?: Record<string, string>
}

export interface SliceEnum {
  /** In declared order; members after `unknownFutureValue` are evolvable. */
  members: string[]
  later?: { members: string[]; source: string }
}

export interface SliceAction {
  parameters: Record<string, string>
  source: string
}

export interface GraphSlice {
  source: { package: string; version: string; file: string }
  types: Record<string, SliceType>
  enums: Record<string, SliceEnum>
  /** Bound type → action name → parameters. */
  actions: Record<string, Record<string, SliceAction>>
}

interface LaterMembers {
  enumMembers?: { enum: string; members: string[]; source: string }[]
  properties?: { type: string; name: string; valueType: string; source: string }[]
  actions?: { boundTo: string; name: string; parameters: Record<string, string>; source: string }[]
}

/** Graph's name of a type: the package's interface name with a lower-case first letter. */
const graphName = (tsName: string): string => tsName.charAt(0).toLowerCase() + tsName.slice(1)

function valueType(node: ts.TypeNode): string {
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText()
    if (name === 'NullableOption' && node.typeArguments?.length === 1) return valueType(node.typeArguments[0])
    return graphName(name)
  }
  if (ts.isArrayTypeNode(node)) return `${valueType(node.elementType)}[]`
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.filter(t => !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword))
    if (kinds.length === 1) return valueType(kinds[0])
  }
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return 'string'
    case ts.SyntaxKind.NumberKeyword:
      return 'number'
    case ts.SyntaxKind.BooleanKeyword:
      return 'boolean'
  }
  return node.getText()
}

function installedPackage(): { version: string; file: string; text: string } {
  const manifest = createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`)
  const { version, types } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string; types: string }
  return { version, file: types, text: readFileSync(join(dirname(manifest), types), 'utf8') }
}

export async function buildSlice(): Promise<string> {
  const pkg = installedPackage()
  const source = ts.createSourceFile(pkg.file, pkg.text, ts.ScriptTarget.Latest, true)
  const interfaces = new Map<string, ts.InterfaceDeclaration>()
  const aliases = new Map<string, ts.TypeAliasDeclaration>()
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) interfaces.set(statement.name.text, statement)
    if (ts.isTypeAliasDeclaration(statement)) aliases.set(statement.name.text, statement)
  }

  const sliceType = (name: string): SliceType => {
    const chain: ts.InterfaceDeclaration[] = []
    for (let current: string | undefined = name; current !== undefined;) {
      const declaration = interfaces.get(current)
      if (!declaration) throw new Error(`${PACKAGE} declares no interface ${current}`)
      chain.push(declaration)
      const bases = declaration.heritageClauses?.flatMap(c => c.types.map(t => t.expression.getText())) ?? []
      if (bases.length > 1) throw new Error(`${current} extends more than one interface`)
      current = bases[0]
    }
    const properties: Record<string, string> = {}
    // Base types first, so `id` leads as it does on the wire.
    for (const declaration of [...chain].reverse())
      for (const member of declaration.members)
        if (ts.isPropertySignature(member) && member.type) properties[member.name.getText()] = valueType(member.type)
    return { extends: chain.slice(1).map(d => graphName(d.name.text)), properties }
  }

  const sliceEnum = (name: string): SliceEnum => {
    const alias = aliases.get(name)
    const union = alias?.type
    const members =
      union && ts.isUnionTypeNode(union)
        ? union.types.map(t => (ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined))
        : undefined
    if (!members || members.some(m => m === undefined)) throw new Error(`${PACKAGE} declares no string enum ${name}`)
    return { members: members as string[] }
  }

  const slice: GraphSlice = {
    source: { package: PACKAGE, version: pkg.version, file: pkg.file },
    types: Object.fromEntries(USED_TYPES.map(n => [graphName(n), sliceType(n)])),
    enums: Object.fromEntries(USED_ENUMS.map(n => [graphName(n), sliceEnum(n)])),
    actions: {}
  }
  mergeLater(slice, JSON.parse(readFileSync(LATER_PATH, 'utf8')) as LaterMembers)
  const options = (await prettier.resolveConfig(SLICE_PATH)) ?? {}
  return prettier.format(JSON.stringify(slice), { ...options, filepath: SLICE_PATH })
}

/** Adds what the metadata declares after the package; an entry the package already has is an error, so the list stays short. */
function mergeLater(slice: GraphSlice, later: LaterMembers): void {
  const stale = (what: string): never => {
    throw new Error(`${PACKAGE} ${slice.source.version} already declares ${what}: remove it from conformance/later-members.json`)
  }
  for (const entry of later.enumMembers ?? []) {
    const target = slice.enums[entry.enum] ?? stale(`no enum ${entry.enum} in the slice; add it to USED_ENUMS`)
    for (const m of entry.members) if (target.members.includes(m)) stale(`${entry.enum}.${m}`)
    target.members.push(...entry.members)
    target.later = { members: entry.members, source: entry.source }
  }
  for (const entry of later.properties ?? []) {
    const target = slice.types[entry.type] ?? stale(`no type ${entry.type} in the slice; add it to USED_TYPES`)
    if (entry.name in target.properties) stale(`${entry.type}.${entry.name}`)
    target.properties[entry.name] = entry.valueType
    target.later = { ...target.later, [entry.name]: entry.source }
  }
  for (const entry of later.actions ?? []) {
    const bound = (slice.actions[entry.boundTo] ??= {})
    bound[entry.name] = { parameters: entry.parameters, source: entry.source }
  }
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)
if (isMain) {
  const wanted = await buildSlice()
  if (process.argv.includes('--check')) {
    let current = ''
    try {
      current = readFileSync(SLICE_PATH, 'utf8')
    } catch {
      // A missing slice differs like any other.
    }
    if (wanted !== current) {
      console.error(`conformance/graph-beta-slice.json differs from what ${PACKAGE} gives: run "npm run graph:slice".`)
      process.exit(1)
    }
  } else writeFileSync(SLICE_PATH, wanted)
}
