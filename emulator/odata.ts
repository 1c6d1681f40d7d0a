/** The slice of OData query handling Graph offers on these collections: $select, $filter, paging. */

export interface Filter {
  op: 'eq' | 'contains'
  property: string
  value: string
}

const STRING_LITERAL = `'((?:[^']|'')*)'`
const EQ = new RegExp(`^\\s*(\\w+)\\s+eq\\s+${STRING_LITERAL}\\s*$`, 'i')
const CONTAINS = new RegExp(`^\\s*contains\\(\\s*(\\w+)\\s*,\\s*${STRING_LITERAL}\\s*\\)\\s*$`, 'i')

/** Only a single `prop eq '…'` or `contains(prop,'…')` clause parses; undefined otherwise. */
export function parseFilter(raw: string): Filter | undefined {
  const eq = EQ.exec(raw)
  if (eq) return { op: 'eq', property: eq[1], value: eq[2].replace(/''/g, "'") }
  const contains = CONTAINS.exec(raw)
  if (contains) return { op: 'contains', property: contains[1], value: contains[2].replace(/''/g, "'") }
  return undefined
}

/** String comparisons are case-insensitive, as Graph's are for these properties. */
export function filterMatches(filter: Filter, value: unknown): boolean {
  if (typeof value !== 'string') return false
  const have = value.toLowerCase()
  const want = filter.value.toLowerCase()
  return filter.op === 'eq' ? have === want : have.includes(want)
}

/** Property names from `$select`, always with `id`; undefined when absent. */
export function parseSelect(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  const names = raw
    .split(',')
    .map(n => n.trim())
    .filter(n => n !== '')
  return names.some(n => n.toLowerCase() === 'id') ? names : ['id', ...names]
}

/**
 * Keeps the selected properties, matched case-insensitively; names the entity does not model
 * are left out rather than refused, because the emulator renders a subset of each Graph type.
 */
export function applySelect(entity: object, select: string[] | undefined): Record<string, unknown> {
  const all = entity as Record<string, unknown>
  if (select === undefined) return { ...all }
  const wanted = new Set(select.map(n => n.toLowerCase()))
  return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.has(k.toLowerCase())))
}

export function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url')
}

/** The offset a token stands for; 0 without a token; undefined for a token it never issued. */
export function decodeSkipToken(token: string | undefined): number | undefined {
  if (token === undefined) return 0
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown }
    return Number.isInteger(offset) && (offset as number) >= 0 ? (offset as number) : undefined
  } catch {
    return undefined
  }
}

/** Query string in the `$name=value` form Graph writes into its links. */
export function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(v)}`)
    .join('&')
}
