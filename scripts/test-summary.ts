// Sums the per-project vitest JSON reports into the closing line CI reads: "N passed, N failed".
// Exits non-zero when a test failed or when no test ran at all.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

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
// A project whose tests did not run at all leaves no report: count the missing run as a failure.
const ran = passed + failed > 0
if (!ran) failed += 1
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(failed === 0 ? 0 : 1)
