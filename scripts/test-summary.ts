// Sums the per-project vitest JSON reports into the closing line CI reads: "N passed, N failed".
// Exits non-zero when a test failed or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { basename, join } from "node:path"

interface VitestReport {
  readonly numPassedTests: number
  readonly numFailedTests: number
  readonly numPendingTests: number
  readonly numTodoTests: number
}

const dir = process.argv[2] ?? "reports/vitest"
let files: Array<string> = []
try {
  files = readdirSync(dir).filter((name) => name.endsWith(".json"))
} catch {
  files = []
}
let passed = 0
let failed = 0
let skipped = 0
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8")) as VitestReport
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
  console.log(`${file.replace(/\.json$/, "")}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
}
// A project whose tests did not run at all leaves no report: count each missing one as a failure.
const root = join(import.meta.dirname, "..")
const projects = ["libs", "services"]
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(group, name)))
  .concat(["e2e"])
  .filter((dir) => existsSync(join(root, dir, "vitest.config.ts")))
for (const dir of projects) {
  const name = basename(dir)
  if (!files.includes(`${name}.json`)) {
    console.log(`${name}: no test report (its tests did not run)`)
    failed += 1
  }
}
if (passed + failed === 0) failed += 1
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(failed === 0 ? 0 : 1)
