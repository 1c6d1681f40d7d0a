// Sent in the User-Agent so Microsoft can tell this action's traffic apart; kept equal to package.json.
const ACTION_NAME = 'cloudpc-image-action'
export const ACTION_VERSION = '1.0.0'
export const USER_AGENT = `${ACTION_NAME}/${ACTION_VERSION}`
