// The floor every toolkit action pays: a bundle of only @actions/core and @actions/http-client that
// reads its inputs and sends the same first request as the action (the token request). Built by
// bench/startup.ts with the same ncc flags as dist/, to compare start-up side by side.

import * as core from '@actions/core'
import { HttpClient } from '@actions/http-client'

const url = `${core.getInput('authorityHost')}/${core.getInput('tenantId')}/oauth2/v2.0/token`
await new HttpClient('toolkit-only').post(url, 'grant_type=client_credentials', {
  'Content-Type': 'application/x-www-form-urlencoded'
})
