/**
 * Builds the CLI that `npm pack` ships (scripts/Bundle.ts), so an installed copy runs on a plain Node ≥ 22 (Node
 * strips no types under node_modules). Run by `npm pack` (prepack); node --conditions=@stagebeam/source
 * services/cli/scripts/bundle.ts. The bundle is replaced in place, never removed first: CLIs started from the
 * workspace meanwhile (the tests) run the same file.
 */
import { buildBundle } from "./Bundle.ts"

await buildBundle()
console.log("bundled services/cli/dist/cli/stagebeam.js")
