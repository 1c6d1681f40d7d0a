/** A GUID the tests can read: `prefix` names what it is, `n` which one. */
export const guid = (prefix: string, n: number): string => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`
