/**
 * How long `stagebeam --version` takes to start, from the workspace: the sources as the bin ran them before (every
 * TypeScript module loaded and stripped at each start), the bin now (the bundle it keeps fresh), `npx stagebeam`
 * (npm's own start on top), and the bin under Node 20 where the machine has one (it hands itself to Node 24).
 * Runs alternate, so a busy machine slows every arm alike; the ratio is the figure.
 * Run: node --conditions=@stagebeam/source bench/cli-start.ts
 */
import { execFileSync, spawnSync } from "node:child_process"
import { join } from "node:path"
import { fixed, makeReport } from "./lib/report.ts"
import { median } from "./lib/stats.ts"

const ROUNDS = 15
const root = join(import.meta.dirname, "..")
const bin = join(root, "services/cli/bin/stagebeam.js")
const node20 = spawnSync("/usr/bin/node", ["--version"], { encoding: "utf8" }).stdout?.trim() ?? ""

const arms: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
  ["sources (the old bin)", process.execPath, [join(root, "services/cli/src/main.ts"), "--version"]],
  ["bin (bundle)", process.execPath, [bin, "--version"]],
  ["npx stagebeam", "npx", ["stagebeam", "--version"]],
  ...(node20.startsWith("v20") ? [[`bin on ${node20}`, "/usr/bin/node", [bin, "--version"]] as const] : []),
]

execFileSync(process.execPath, [bin, "--version"]) // builds the bundle if it is stale: not a start to time
const times = arms.map(() => [] as Array<number>)
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, [, command, args]] of arms.entries()) {
    const started = performance.now()
    execFileSync(command, args, { cwd: root, stdio: "ignore" })
    times[i]!.push(performance.now() - started)
  }
}

const report = makeReport("cli-start")
report.line(`stagebeam --version from the workspace, ${ROUNDS} alternating rounds (median ms; ratio to the sources)`)
const base = median(times[0]!)
report.table(
  ["arm", "median ms", "min ms", "× sources"],
  arms.map(([name], i) => [
    name,
    fixed(median(times[i]!), 0),
    fixed(Math.min(...times[i]!), 0),
    fixed(median(times[i]!) / base),
  ]),
)
report.line(`saved ${report.save()}`)
