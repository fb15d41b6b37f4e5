/**
 * The CLI as one JavaScript file (dist/cli/stagebeam.js) with its workspace libraries and dependencies bundled, plus
 * the files it reads at run time: the protos (proto/, found beside dist/) and Chart.js (dist/vendor/).
 * `npm pack` ships it (scripts/bundle.ts), and in the workspace bin/stagebeam.js runs it instead of the sources,
 * rebuilt when a source it was built from changed: loading every TypeScript module at each start costs 2.4× the
 * bundle's start (bench/cli-start.ts).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const root = join(import.meta.dirname, "..")
const require = createRequire(import.meta.url)
export const bundleFile = join(root, "dist/cli/stagebeam.js")
/** The workspace files the bundle was built from, with their modification times. */
const inputsFile = join(root, "dist/cli/inputs.json")

/** CommonJS dependencies read `__dirname` and `require`: in the ESM bundle they are those of dist/cli/stagebeam.js. */
const CJS_GLOBALS = [
  'import { createRequire as __createRequire } from "node:module"',
  'import { fileURLToPath as __fileURLToPath } from "node:url"',
  'import { dirname as __pathDirname } from "node:path"',
  "const require = __createRequire(import.meta.url)",
  "const __filename = __fileURLToPath(import.meta.url)",
  "const __dirname = __pathDirname(__filename)",
].join(";\n")

const modified = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : -1)

/** True when the bundle exists and no file it was built from changed since (dependencies: by the lock file). */
export const isFresh = (): boolean => {
  if (!existsSync(bundleFile) || !existsSync(inputsFile)) return false
  const inputs = JSON.parse(readFileSync(inputsFile, "utf8")) as Record<string, number>
  return Object.entries(inputs).every(([file, time]) => modified(file) === time)
}

/**
 * Builds the bundle. Concurrent builds (tests start many CLIs at once) each write a file of their own and rename it
 * into place, so a reader never sees half a bundle.
 */
export const buildBundle = async (): Promise<void> => {
  const { build } = await import("rolldown")
  const partial = `${bundleFile}.${process.pid}.tmp`
  const output = await build({
    input: join(root, "src/main.ts"),
    platform: "node",
    resolve: { conditionNames: ["@stagebeam/source", "node", "import", "default"] },
    output: { file: partial, format: "esm", codeSplitting: false, banner: CJS_GLOBALS },
    logLevel: "warn",
  })
  // The Reasoner's proto (libs/proto finds it beside dist/ when bundled) and the health service's.
  cpSync(join(root, "../../proto/stagebeam"), join(root, "proto/stagebeam"), { recursive: true })
  cpSync(join(dirname(require.resolve("grpc-health-check/package.json")), "proto/health"), join(root, "proto/health"), {
    recursive: true,
  })
  mkdirSync(join(root, "dist/cli/vendor"), { recursive: true })
  cpSync(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), join(root, "dist/cli/vendor/chart.umd.min.js"))
  renameSync(partial, bundleFile)
  const workspace = join(root, "../..")
  const sources = output.output
    .flatMap((chunk) => (chunk.type === "chunk" ? chunk.moduleIds : []))
    .filter((id) => id.startsWith(workspace) && !id.includes("/node_modules/"))
  const inputs = Object.fromEntries(
    [...sources, join(workspace, "package-lock.json")].map((file) => [file, modified(file)]),
  )
  writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify(inputs))
  renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile)
}
