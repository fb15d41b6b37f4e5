/**
 * Builds the CLI that `npm pack` ships: one JavaScript file (dist/cli/stagebeam.js) with its workspace libraries and
 * dependencies bundled, so an installed copy runs on a plain Node ≥ 22 (Node strips no types under node_modules),
 * plus the files it reads at run time: the protos (proto/, found beside dist/) and Chart.js (dist/vendor/).
 * Run by `npm pack` (prepack); node --conditions=@stagebeam/source services/cli/scripts/bundle.ts
 */
import { cpSync, mkdirSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { build } from "rolldown"

const root = join(import.meta.dirname, "..")
const require = createRequire(import.meta.url)
rmSync(join(root, "dist"), { recursive: true, force: true })
rmSync(join(root, "proto"), { recursive: true, force: true })

/** CommonJS dependencies read `__dirname` and `require`: in the ESM bundle they are those of dist/cli/stagebeam.js. */
const CJS_GLOBALS = [
  'import { createRequire as __createRequire } from "node:module"',
  'import { fileURLToPath as __fileURLToPath } from "node:url"',
  'import { dirname as __pathDirname } from "node:path"',
  "const require = __createRequire(import.meta.url)",
  "const __filename = __fileURLToPath(import.meta.url)",
  "const __dirname = __pathDirname(__filename)",
].join(";\n")

await build({
  input: join(root, "src/main.ts"),
  platform: "node",
  resolve: { conditionNames: ["@stagebeam/source", "node", "import", "default"] },
  output: { file: join(root, "dist/cli/stagebeam.js"), format: "esm", codeSplitting: false, banner: CJS_GLOBALS },
  logLevel: "warn",
})

// The Reasoner's proto (libs/proto finds it beside dist/ when bundled) and the health service's.
cpSync(join(root, "../../proto/stagebeam"), join(root, "proto/stagebeam"), { recursive: true })
cpSync(join(dirname(require.resolve("grpc-health-check/package.json")), "proto/health"), join(root, "proto/health"), {
  recursive: true,
})
mkdirSync(join(root, "dist/cli/vendor"), { recursive: true })
cpSync(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), join(root, "dist/cli/vendor/chart.umd.min.js"))
console.log("bundled services/cli/dist/cli/stagebeam.js")
