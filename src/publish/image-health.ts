// What a usable image can still warn about: an operating system out of support, or an image that
// stops being usable soon. Pure; the publisher turns each line into a warning annotation.

import type { DeviceImage } from '../graph/model.js'

/** Far enough ahead to plan a rebuild before provisioning from the image stops. */
export const EXPIRY_WARNING_DAYS = 90
const DAY_MS = 24 * 60 * 60_000

const OS_STATUS_MEANINGS: Record<string, string> = {
  supportedwithwarning:
    'the operating system is out of support: Cloud PCs provisioned from it may miss security updates. Build the next version from a supported Windows release.',
  unknown: 'the service does not know whether the operating system is supported.'
}

export function imageHealthWarnings(image: Pick<DeviceImage, 'id' | 'osStatus' | 'expirationDate'>, now: number): string[] {
  const warnings: string[] = []
  const osStatus = typeof image.osStatus === 'string' ? image.osStatus.trim() : ''
  if (osStatus && osStatus.toLowerCase() !== 'supported') {
    const meaning =
      OS_STATUS_MEANINGS[osStatus.toLowerCase()] ?? 'the service reported a support state this action does not know.'
    warnings.push(`Image ${image.id} has osStatus ${osStatus}: ${meaning}`)
  }
  const expires = typeof image.expirationDate === 'string' ? Date.parse(`${image.expirationDate.slice(0, 10)}T00:00:00Z`) : NaN
  if (!Number.isNaN(expires)) {
    const date = image.expirationDate!.slice(0, 10)
    const days = Math.ceil((expires - now) / DAY_MS)
    if (days <= 0)
      warnings.push(
        `Image ${image.id} expired on ${date} (expirationDate): it can no longer be used to provision Cloud PCs. Publish a new version.`
      )
    else if (days <= EXPIRY_WARNING_DAYS)
      warnings.push(
        `Image ${image.id} expires on ${date} (expirationDate), in ${days} day${days === 1 ? '' : 's'}: from then on it cannot be used to provision Cloud PCs. Publish a new version before then.`
      )
  }
  return warnings
}
