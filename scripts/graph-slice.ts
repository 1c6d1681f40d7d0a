// `tsx scripts/graph-slice.ts` writes conformance/graph-beta-slice.json: the part of Microsoft's
// published Graph beta types that the action and the emulator use, checked against and completed by
// Microsoft's Graph metadata (conformance/msgraph-metadata/, see scripts/graph-metadata.ts), plus
// the bound actions the type mappings do not list (conformance/later-members.json). `--check` only
// exits 1 when the committed slice differs from what the installed package and the metadata give.

import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as prettier from 'prettier'
import ts from 'typescript'
import { BASE_TYPES, type MetadataSlice, readMetadataSlice, USED_ENUMS, USED_TYPES } from './graph-metadata.js'
import { ROOT } from './runner.js'

export const PACKAGE = '@microsoft/microsoft-graph-types-beta'
export const SLICE_PATH = join(ROOT, 'conformance', 'graph-beta-slice.json')
const LATER_PATH = join(ROOT, 'conformance', 'later-members.json')
const METADATA = 'msgraph-metadata type mappings'

export interface SliceType {
  /** Base types, nearest first. */
  extends: string[]
  /** Property name → value type: a primitive, a slice enum or type, another Graph type's name; `[]` for a collection. */
  properties: Record<string, string>
  /** Properties taken from later-members.json, with their source. */
  later?: Record<string, string>
  /** Properties the metadata declares that the package does not type: a value of one cannot be checked. */
  untyped?: string[]
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
  source: { package: string; version: string; file: string; metadata: { repository: string; commit: string } }
  types: Record<string, SliceType>
  enums: Record<string, SliceEnum>
  /** Bound type → action name → parameters. */
  actions: Record<string, Record<string, SliceAction>>
}

interface LaterMembers {
  properties?: { type: string; name: string; valueType: string; source: string }[]
  actions?: { boundTo: string; name: string; parameters: Record<string, string>; source: string }[]
}

/** Graph's name of a type: the package's interface name with a lower-case first letter. */
const graphName = (tsName: string): string => tsName.charAt(0).toLowerCase() + tsName.slice(1)
const packageName = (graph: string): string => graph.charAt(0).toUpperCase() + graph.slice(1)

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

  const metadata = readMetadataSlice()
  const slice: GraphSlice = {
    source: {
      package: PACKAGE,
      version: pkg.version,
      file: pkg.file,
      metadata: { repository: metadata.source.repository, commit: metadata.source.commit }
    },
    types: Object.fromEntries(USED_TYPES.map(n => [n, sliceType(packageName(n))])),
    enums: Object.fromEntries(USED_ENUMS.map(n => [n, sliceEnum(packageName(n))])),
    actions: {}
  }
  mergeMetadata(slice, metadata)
  mergeLater(slice, JSON.parse(readFileSync(LATER_PATH, 'utf8')) as LaterMembers)
  const options = (await prettier.resolveConfig(SLICE_PATH)) ?? {}
  return prettier.format(JSON.stringify(slice), { ...options, filepath: SLICE_PATH })
}

/**
 * The metadata decides: a property or member the package has and the metadata lacks is an error;
 * members the metadata has and the package lacks are added after the package's own (evolvable, as
 * Graph adds them after unknownFutureValue); properties it has that the package does not type are
 * listed as untyped.
 */
function mergeMetadata(slice: GraphSlice, metadata: MetadataSlice): void {
  const declared = (name: string): string[] => {
    const own = metadata.types[name]
    if (!own) throw new Error(`The ${METADATA} slice has no type ${name}: regenerate it with scripts/graph-metadata.ts`)
    return [...own.properties, ...own.navigationProperties]
  }
  for (const [name, type] of Object.entries(slice.types)) {
    const bases = type.extends.filter(base => BASE_TYPES.includes(base))
    if (bases.length !== type.extends.length)
      throw new Error(`${name} extends ${type.extends.join(', ')}: add its base types to BASE_TYPES in scripts/graph-metadata.ts`)
    const names = [...bases.flatMap(declared), ...declared(name)]
    const extra = Object.keys(type.properties).filter(p => !names.includes(p))
    if (extra.length > 0) throw new Error(`${PACKAGE} types ${name}.${extra.join(', ')}, which the ${METADATA} do not declare`)
    const untyped = names.filter(p => !(p in type.properties)).sort()
    if (untyped.length > 0) type.untyped = untyped
  }
  for (const [name, target] of Object.entries(slice.enums)) {
    const members = metadata.enums[name]
    if (!members) throw new Error(`The ${METADATA} slice has no enum ${name}: regenerate it with scripts/graph-metadata.ts`)
    const extra = target.members.filter(m => !members.includes(m))
    if (extra.length > 0) throw new Error(`${PACKAGE} declares ${name} members ${extra.join(', ')}, which the ${METADATA} do not`)
    const added = members.filter(m => !target.members.includes(m))
    if (added.length === 0) continue
    target.members.push(...added)
    target.later = { members: added, source: METADATA }
  }
}

/** Adds what the type mappings cannot show (bound actions; a property's type); an entry the package already has is an error, so the list stays short. */
function mergeLater(slice: GraphSlice, later: LaterMembers): void {
  const stale = (what: string): never => {
    throw new Error(`${PACKAGE} ${slice.source.version} already declares ${what}: remove it from conformance/later-members.json`)
  }
  for (const entry of later.properties ?? []) {
    const target = slice.types[entry.type] ?? stale(`no type ${entry.type} in the slice; add it to USED_TYPES`)
    if (entry.name in target.properties) stale(`${entry.type}.${entry.name}`)
    target.properties[entry.name] = entry.valueType
    target.later = { ...target.later, [entry.name]: entry.source }
    const untyped = target.untyped?.filter(p => p !== entry.name)
    if (untyped?.length) target.untyped = untyped
    else delete target.untyped
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
