// The one JSON parse for answers from the network: depth-checked before it is parsed, so an answer
// nested thousands of levels deep is refused here instead of overflowing a stack later, when it is
// copied, compared or written to the outputs.

/**
 * Graph, ARM and token answers the action reads nest a handful of levels (an image's
 * statusDetails, a Cloud PC's last remote action); 64 leaves room for any property Microsoft adds.
 */
export const MAX_JSON_DEPTH = 64

export type Parsed<T> = { ok: true; value: T | undefined } | { ok: false; why: string }

/** `text` parsed; an empty body is `undefined`; a body that is not JSON, or nests deeper than the limit, is not ok. */
export function parseJson<T>(text: string): Parsed<T> {
  if (text.trim() === '') return { ok: true, value: undefined }
  if (depthOf(text) > MAX_JSON_DEPTH) return { ok: false, why: `a body nested deeper than ${MAX_JSON_DEPTH} levels` }
  try {
    return { ok: true, value: JSON.parse(text) as T }
  } catch {
    return { ok: false, why: 'a body that is not JSON' }
  }
}

/** The deepest nesting of arrays and objects in `text`, brackets inside strings not counted; stops past the limit. */
function depthOf(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // a backslash escapes the next character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest && (deepest = depth) > MAX_JSON_DEPTH) return deepest
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return deepest
}
