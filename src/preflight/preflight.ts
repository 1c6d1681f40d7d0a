// Reads the source image from Azure Resource Manager before any Graph write and checks what
// Windows 365 requires, so a source the service would refuse after an hour fails in seconds. A
// check that cannot run (no ARM token, no access, ARM out of reach) is never a verdict on the image.

import { type ArmClient, ArmUnreachableError, GALLERY_API_VERSION, MANAGED_IMAGE_API_VERSION } from '../http/arm-client.js'
import type { Clock } from '../core/clock.js'
import { ActionError, ArmError, CancelledError, DeadlineError, isAuthRefusal, isNotFound, messageOf } from '../core/errors.js'
import { isGallerySource, type Settings } from '../inputs.js'
import type { Logger } from '../core/logger.js'
import type { RunReport } from '../report/run-report.js'
import {
  type ArmGalleryImage,
  type ArmGalleryImageVersion,
  type ArmManagedImage,
  checkGalleryImageVersion,
  checkManagedImage,
  type SourceCheck
} from './source-checks.js'

/** The preflight saves an hour's wait; it may not hold the publish up longer than this when ARM is slow or down. */
export const PREFLIGHT_BUDGET_MS = 2 * 60_000

const MANAGED_CHECKS = 'Windows, generalized, generation 2, no data disks, no disk encryption set'
const GALLERY_CHECKS = `${MANAGED_CHECKS}, x64, Trusted Launch`

export interface PreflightDeps {
  /** Undefined when the credential cannot give an ARM token (accessToken). */
  arm?: ArmClient
  clock: Clock
  logger: Logger
}

/** Why the checks could not run, and what would let them. */
class NotChecked extends Error {}

export async function runPreflight(settings: Settings, report: RunReport, deps: PreflightDeps): Promise<void> {
  const { logger } = deps
  const id = settings.sourceImageResourceId
  const gallery = isGallerySource(id)
  report.preflight = { mode: settings.preflight, checks: [] }
  let checks: SourceCheck[]
  try {
    checks = await readAndCheck(id, gallery, settings, deps)
  } catch (error) {
    if (!(error instanceof NotChecked)) throw error
    const message = `The source image was not checked (${gallery ? GALLERY_CHECKS : MANAGED_CHECKS}): ${error.message}`
    report.preflight.notRun = message
    if (settings.preflight === 'required')
      throw new ActionError('Preflight could not run', `${message} preflight is true, so nothing was published.`)
    logger.notice(`${message} The upload goes ahead; Windows 365 checks the image itself.`, {
      title: 'Source image not checked'
    })
    return
  }
  report.preflight.checks = checks
  for (const check of checks)
    logger.info(
      `${check.passed ? '✓' : '✗'} ${check.name}: ${check.reported}${check.passed ? '' : ` (required: ${check.requirement})`}.`
    )
  const failed = checks.filter(check => !check.passed)
  if (failed.length === 0)
    return logger.info(`The source image meets the ${checks.length} requirements Azure Resource Manager shows.`)
  throw new ActionError(
    `Source image check failed: ${failed.map(check => check.name).join(', ')}`,
    `Source image ${id} does not meet what Windows 365 requires, so its upload would fail after up to an hour. ${failed
      .map(
        check =>
          `${check.name}: Windows 365 requires ${check.requirement}; Azure Resource Manager reports ${check.reported}; the upload would fail with ${check.errorCode}. Fix: ${check.fix}`
      )
      .join(' ')} Nothing was created or changed.`
  )
}

async function readAndCheck(id: string, gallery: boolean, settings: Settings, deps: PreflightDeps): Promise<SourceCheck[]> {
  const arm = deps.arm
  if (!arm)
    throw new NotChecked(
      'accessToken signs in to Microsoft Graph only, and the checks need a token for Azure Resource Manager. Sign in with tenantId and clientId (GitHub OIDC or clientSecret) or an azure/login session to have the source checked.'
    )
  const deadline = deps.clock.now() + PREFLIGHT_BUDGET_MS
  const read = <T>(resourceId: string, apiVersion: string) => readArm<T>(arm, resourceId, apiVersion, deadline, settings)
  if (!gallery) {
    const image = await read<ArmManagedImage | null>(id, MANAGED_IMAGE_API_VERSION)
    return image ? checkManagedImage(image) : [notFound(id)]
  }
  const definitionId = id.replace(/\/versions\/[^/]+$/i, '')
  const version = await read<ArmGalleryImageVersion | null>(id, GALLERY_API_VERSION)
  if (!version) return [notFound(id)]
  const definition = await read<ArmGalleryImage | null>(definitionId, GALLERY_API_VERSION)
  return definition ? checkGalleryImageVersion(version, definition) : [notFound(definitionId)]
}

/** One ARM read; `null` when ARM says the resource does not exist (a verdict), NotChecked when it cannot tell. */
async function readArm<T>(
  arm: ArmClient,
  resourceId: string,
  apiVersion: string,
  deadline: number,
  settings: Settings
): Promise<T | null> {
  try {
    return await arm.get<T>(resourceId, apiVersion, deadline)
  } catch (error) {
    if (error instanceof CancelledError) throw error
    if (error instanceof ArmError) {
      if (isNotFound(error)) return null
      if (error.details.code.toLowerCase() === 'invalidauthenticationtokentenant')
        throw new NotChecked(
          `its subscription belongs to another Entra tenant than the one signed in to (${error.message}). The image must be in a subscription of the tenant Windows 365 runs in.`
        )
      if (isAuthRefusal(error))
        throw new NotChecked(
          `the app cannot read it in Azure Resource Manager (${error.message}). Give the app registration the Reader role on the image, its resource group or its subscription to have it checked.`
        )
      throw new NotChecked(`Azure Resource Manager refused the read (${error.message}).`)
    }
    if (error instanceof DeadlineError)
      throw new NotChecked(`Azure Resource Manager at ${settings.armEndpoint} could not be read in time: ${error.message}`)
    if (error instanceof ArmUnreachableError)
      throw new NotChecked(`Azure Resource Manager at ${settings.armEndpoint} could not be reached: ${error.message}`)
    // The ARM token could not be had (sign-in refused for that scope, the Azure CLI, an unreachable authority).
    if (error instanceof ActionError) throw new NotChecked(`no token for ${settings.armEndpoint}: ${messageOf(error)}`)
    throw error
  }
}

function notFound(resourceId: string): SourceCheck {
  return {
    name: 'Exists',
    requirement: 'a source image that exists and that Windows 365 can read (Windows 365 "Add device images")',
    passed: false,
    reported: `no resource ${resourceId} (404)`,
    errorCode: 'sourceImageNotFound',
    fix: 'Check sourceImageResourceId (subscription, resource group, name and, for a gallery, the version), and that the image was not deleted.'
  }
}
