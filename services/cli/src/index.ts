export { cli } from "./Cli.ts"
export { EXIT } from "./ExitCodes.ts"
export { wilson } from "./eval/Stats.ts"
export { formatAnswer, formatResponse } from "./Format.ts"
