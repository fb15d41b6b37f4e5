/**
 * Runs every benchmark in sequence, each in its own Node process (so one's servers and timers cannot disturb the
 * next), and stops at the first failure. Names on the command line pick a subset: `npm run bench -- accuracy`.
 * Run: node --conditions=@stagebeam/source bench/run.ts
 */
import { spawnSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const benchmarks = [
  "knockout-vs-sequential",
  "latency",
  "accuracy",
  "selection",
  "judges",
  "judge-images",
  "swires",
  "cost",
  "reliability",
  "hostile",
  "scaling",
  "image",
  "json-body",
  "search-overhead",
  "pool-call",
  "upstream-call",
  "wake-cost",
  "cli-start",
] as const

const here = dirname(fileURLToPath(import.meta.url))
const asked = process.argv.slice(2)
const unknown = asked.filter((name) => !(benchmarks as ReadonlyArray<string>).includes(name))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${benchmarks.join(", ")}`)
  process.exit(2)
}

for (const name of asked.length > 0 ? asked : benchmarks) {
  console.log(`\n=== ${name} ===`)
  const started = performance.now()
  const result = spawnSync(process.execPath, ["--conditions=@stagebeam/source", join(here, `${name}.ts`)], {
    stdio: "inherit",
  })
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  if (result.status !== 0) {
    console.error(`${name} failed (exit ${result.status ?? result.signal}) after ${seconds} s`)
    process.exit(1)
  }
  console.log(`=== ${name} done in ${seconds} s ===`)
}
