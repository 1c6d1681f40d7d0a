// One table from the service's `errorCode` to what a retry can do and what the user must change.
// Used by the failure message, the error annotation and the summary.

export type RetryAdvice =
  | 'retry' // a service-side fault: retrying the upload as is can help
  | 'afterFix' // a retry helps only once the user fixed access or the source in place
  | 'no' // the source image itself must change: publish a new version
  | 'once' // the reason is unknown to the action: retry once, then report

export interface ErrorCodeInfo {
  code: string
  retry: RetryAdvice
  meaning: string
  remedy: string
}

const REQUIREMENTS = 'See the source image requirements: https://learn.microsoft.com/windows-365/enterprise/device-images'

export const ERROR_CODES: readonly ErrorCodeInfo[] = [
  {
    code: 'internalServerError',
    retry: 'retry',
    meaning: 'The service hit an internal error while processing the image.',
    remedy:
      'A retry can help: run the workflow again, which retries the upload of the same image, or raise maxUploadRetries. If it keeps failing, open a Microsoft support case quoting the image ID, request-id and client-request-id shown here.'
  },
  {
    code: 'sourceImageNotFound',
    retry: 'afterFix',
    meaning: 'The source image could not be found or accessed.',
    remedy:
      'Check that sourceImageResourceId is exact and the managed image still exists; give the Windows 365 service principal the Reader role on the subscription (for app-only sign-in also the Subscriptions.Read grant). Do not delete the managed image before the upload is ready.'
  },
  {
    code: 'osVersionNotSupported',
    retry: 'no',
    meaning: "The image's operating system version is not supported.",
    remedy:
      'Build from a supported Windows 10/11 Enterprise single-session release (not N, LTSC, Pro or multi-session) and publish it as a new version.'
  },
  {
    code: 'sourceImageInvalid',
    retry: 'no',
    meaning: 'The image cannot be used to provision a Windows VM.',
    remedy:
      'Use a Generation 2 build VM with the "Standard" security type, no recovery partition and the default 64 GB OS disk, captured as a managed image; publish a new version.'
  },
  {
    code: 'sourceImageNotGeneralized',
    retry: 'no',
    meaning: 'The image was not generalized.',
    remedy:
      'Run sysprep with /generalize /oobe /shutdown on the build VM, capture a generalized managed image and publish it as a new version.'
  },
  {
    code: 'vmAlreadyAzureAdjoined',
    retry: 'no',
    meaning: 'The VM the image came from had been joined to Microsoft Entra ID.',
    remedy: 'Rebuild from a VM that was never joined to Entra ID or Active Directory, enrolled in Intune or co-managed.'
  },
  {
    code: 'paidSourceImageNotSupport',
    retry: 'no',
    meaning: 'The image derives from a paid Azure Marketplace image.',
    remedy:
      'Rebuild from a base image without a Marketplace purchase plan, such as a Windows Enterprise or Windows 365 Cloud PC gallery image.'
  },
  {
    code: 'sourceImageNotSupportCustomizeVMName',
    retry: 'no',
    meaning: 'A computer-name setting in the image prevents the service from naming VMs.',
    remedy: 'Remove the fixed computer name (sysprep answer file or unattend settings) and recapture.'
  },
  {
    code: 'sourceImageSizeExceedsLimitation',
    retry: 'no',
    meaning: 'The image is larger than the service allows.',
    remedy: 'Shrink the OS disk back to the default 64 GB, remove extra partitions and content, and recapture.'
  },
  {
    code: 'sourceImageWithDataDiskNotSupported',
    retry: 'no',
    meaning: 'The image has data disks.',
    remedy: 'Detach all data disks before capture; capture the OS disk only.'
  },
  {
    code: 'sourceImageWithDiskEncryptionSetNotSupported',
    retry: 'no',
    meaning: 'The image uses a disk encryption set.',
    remedy: 'Capture from a VM whose disks use platform-managed keys, without a disk encryption set.'
  },
  {
    code: 'sourceImageWithAzureDiskEncryptionNotSupported',
    retry: 'no',
    meaning: 'The image uses Azure Disk Encryption.',
    remedy: 'Disable Azure Disk Encryption (decrypt the OS volume) before capture.'
  },
  {
    code: 'fSLogixInstalledSourceImageNotSupported',
    retry: 'no',
    meaning: 'FSLogix components are installed in the image.',
    remedy: 'Uninstall the FSLogix components from the build VM and recapture.'
  },
  {
    code: 'startMenuAppLimitExceeded',
    retry: 'no',
    meaning: 'The image has too many Start menu apps.',
    remedy: 'Reduce the Start menu entries to 3,000 or fewer and recapture.'
  }
]

/** Looks a code up case-insensitively; an empty, sentinel or unrecognised code gets the "once" advice. */
export function explainErrorCode(raw: string | null | undefined): ErrorCodeInfo {
  const code = (raw ?? '').trim()
  const known = ERROR_CODES.find(info => info.code.toLowerCase() === code.toLowerCase())
  if (known) return known
  return {
    code: code || 'unknown',
    retry: 'once',
    meaning:
      code && code.toLowerCase() !== 'unknownfuturevalue'
        ? `The service reported a reason this action does not know (${code}).`
        : 'The service did not say why the upload failed.',
    remedy: `One retry may help: run the workflow again, which retries the upload of the same image. If it fails again, check the image against the source image requirements. ${REQUIREMENTS}`
  }
}

/** Whether asking the service to retry can help without the user changing anything. */
export function isRetryableErrorCode(raw: string | null | undefined): boolean {
  const advice = explainErrorCode(raw).retry
  return advice === 'retry' || advice === 'once'
}
