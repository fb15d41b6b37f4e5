export { cli } from "./Cli.ts"
export { EXIT } from "./ExitCodes.ts"
export { formatAnswer, formatResponse } from "./Format.ts"
