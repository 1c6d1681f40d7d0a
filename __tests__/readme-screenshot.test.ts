// The README shows the committed picture of the job summary. Taking a new one needs Chromium
// (`npm run test:browser`, `npm run screenshot`); checking the committed one needs only Node.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { ROOT } from '../scripts/runner.js'

describe('the summary screenshot in the README', () => {
  it('the README shows the committed screenshot', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    expect(readme).toContain('![The job summary of a publish](docs/summary.png)')
    const committed = readFileSync(join(ROOT, 'docs', 'summary.png'))
    expect(committed.subarray(1, 4).toString()).toBe('PNG')
  })
})
