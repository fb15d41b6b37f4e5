export { cli } from "./Cli.ts"
export { formatEvent, formatResponse } from "./Format.ts"
