// The Cloud PC image API exists only in the global cloud and US Government L4 (GCC High).

export type CloudName = 'global' | 'usgov'

export interface CloudEndpoints {
  graphEndpoint: string
  authorityHost: string
  /** Azure Resource Manager, for the source-image preflight. */
  armEndpoint: string
}

export const CLOUDS: Record<CloudName, CloudEndpoints> = {
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

/** The cloud a well-known public host belongs to, so one of another cloud can be refused as a mix-up. */
export function cloudOfHost(hostname: string): CloudName | undefined {
  const host = hostname.toLowerCase()
  return (Object.keys(CLOUDS) as CloudName[]).find(cloud =>
    Object.values<string>({ ...CLOUDS[cloud] }).some(url => new URL(url).hostname === host)
  )
}

/**
 * The only public origins an endpoint input may name: its own endpoint in each cloud above, on https and
 * port 443. A secret or token goes to exactly these hosts; anything else (another host, a look-alike, a
 * trailing dot, another port) is refused before the first request.
 */
export function documentedOrigins(input: keyof CloudEndpoints): { cloud: CloudName; origin: string }[] {
  return (Object.keys(CLOUDS) as CloudName[]).map(cloud => ({ cloud, origin: CLOUDS[cloud][input] }))
}

/** Clouds that exist but do not offer the image API, so the error can say so instead of "unknown value". */
export const CLOUDS_WITHOUT_IMAGE_API: Record<string, string> = {
  china: 'Microsoft Graph operated by 21Vianet (China)',
  usgovdod: 'US Government L5 (DoD)',
  dod: 'US Government L5 (DoD)',
  germany: 'Microsoft Cloud Germany'
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
