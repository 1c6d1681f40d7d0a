// `npm run test:browser`: only the tests that need a browser, which `npm test` leaves out.
import { BROWSER_TESTS, shared } from './jest.config.js'

export default { ...shared, testMatch: BROWSER_TESTS.map(name => `**/__tests__/${name}.test.ts`) }
