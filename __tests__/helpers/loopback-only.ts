// Every test runs on loopback only: a connection to any other host fails the test that made it.

import { afterEach, expect } from '@jest/globals'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { install } = require('../../scripts/loopback-only.cjs') as { install: (onBlocked: (host: string) => void) => void }

const blocked: string[] = []
install(host => void blocked.push(host))

afterEach(() => {
  expect({ connectionsOutsideLoopback: blocked.splice(0) }).toEqual({ connectionsOutsideLoopback: [] })
})
