// The demo's story, shared by `npm run demo` and the summary screenshot: an image whose first
// upload fails with internalServerError and whose retry becomes ready.

import type { EmulatorOptions } from '../emulator/index.js'

export const DEMO_DISPLAY_NAME = 'Win11-Dev'

/** `scale` shortens the story for tests (1 = the demo's pace: fail after 2 s, ready 3 s after the retry). */
export function demoEmulator(scale = 1): EmulatorOptions {
  return {
    uploadScripts: [
      {
        match: { displayName: DEMO_DISPLAY_NAME },
        attempts: [
          { pendingMs: 2000 * scale, outcome: 'failed', errorCode: 'internalServerError' },
          { pendingMs: 3000 * scale, outcome: 'ready' }
        ]
      }
    ]
  }
}

export function demoInputs({ url, armUrl }: { url: string; armUrl: string }, scale = 1): Record<string, string> {
  return {
    displayName: DEMO_DISPLAY_NAME,
    version: '1.4.0',
    sourceImageResourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev',
    tenantId: '00000000-0000-0000-0000-000000000001',
    clientId: '00000000-0000-0000-0000-000000000002',
    clientSecret: 'local-only-secret',
    graphEndpoint: url,
    authorityHost: url,
    armEndpoint: armUrl,
    pollIntervalSeconds: String(Math.max(0.05, scale)),
    timeoutMinutes: '2'
  }
}
