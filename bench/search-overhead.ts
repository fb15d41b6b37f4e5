/**
 * The search's own runtime cost per upstream call (issue #24), this checkout's libs/search against a baseline
 * checkout's in the same process: runSearch over the in-memory fakes (src/Fakes.ts: no HTTP, no fleet; each call
 * sleeps 1 ms on the live clock, so calls really are asynchronous and the deadline's timer really is armed), a
 * deadline on every search as the gateway sets one, speculation ADAPTIVE over a fleet with room (the gateway's
 * defaults). Per upstream call (generation, verdict and check calls made):
 * - fibers forked (Effect's fiber ids are one sequence, read before and after) and interpreter steps (each run
 *   loop's op count, summed by wrapping FiberImpl.prototype.runLoop): both exact for a given version and seed;
 * - CPU (process.cpuUsage), the two versions taking turns block by block; lowest and median over the blocks.
 * Both versions share this checkout's `effect`, so only the search's own use of it differs.
 *
 * Run: node --conditions=@stagebeam/source bench/search-overhead.ts
 * Env: SEARCH_OVERHEAD_BASELINE=<commit or dir> (default 7336960, the main issue #24's last wave started from);
 *   SEARCH_OVERHEAD_N=<candidates> (default 4); SEARCH_OVERHEAD_BLOCKS (default 8) of SEARCH_OVERHEAD_SEARCHES
 *   (default 100) searches per version.
 */
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import { baselineCheckout } from "./lib/baseline.ts"
import { makeReport } from "./lib/report.ts"

const BASELINE = process.env.SEARCH_OVERHEAD_BASELINE ?? "7336960"
const N = Number(process.env.SEARCH_OVERHEAD_N ?? 4)
const BLOCKS = Number(process.env.SEARCH_OVERHEAD_BLOCKS ?? 8)
const SEARCHES = Number(process.env.SEARCH_OVERHEAD_SEARCHES ?? 100)
const LATENCY_MS = 1
const here = join(dirname(fileURLToPath(import.meta.url)), "..")

type SearchLib = typeof import("@stagebeam/search")
type Testing = typeof import("@stagebeam/search/testing")
interface Version {
  readonly label: string
  readonly search: SearchLib
  readonly testing: Testing
}

/** Where `effect` resolves from a checkout's libs/search: the counts below read this checkout's instance. */
const effectOf = (root: string) => createRequire(join(root, "libs/search/package.json")).resolve("effect")

const load = async (label: string, root: string): Promise<Version> => {
  if (effectOf(root) !== effectOf(here)) {
    throw new Error(
      `${root} resolves effect to ${effectOf(root)}, not this checkout's: give a commit, or a directory without its own node_modules`,
    )
  }
  return {
    label,
    search: await import(join(root, "libs/search/src/index.ts")),
    testing: await import(join(root, "libs/search/src/testing.ts")),
  }
}

// Interpreter steps: every run loop's op count, summed (a fiber's prototype is every fiber's).
let steps = 0
const probe = Effect.runFork(Effect.never)
const fiberPrototype = Object.getPrototypeOf(probe) as { runLoop: (effect: unknown) => unknown }
const runLoop = fiberPrototype.runLoop
fiberPrototype.runLoop = function (this: { currentOpCount: number }, effect: unknown) {
  try {
    return runLoop.call(this, effect)
  } finally {
    steps += this.currentOpCount
  }
}
probe.interruptUnsafe()
/** The next fiber id: fibers forked since an earlier reading are the difference. */
const nextFiberId = () => Effect.runFork(Effect.void).id

/** One search; answers its upstream calls. */
const oneSearch = (version: Version, seed: number) => {
  const generator = version.testing.makeFakeGenerator({ variants: 50, latencyMs: LATENCY_MS })
  const judge = version.testing.makeFakeJudge({ latencyMs: LATENCY_MS })
  const capacity = Layer.succeed(version.search.FleetCapacity, { spareSequences: Effect.succeed(1000) })
  return Effect.gen(function* () {
    const request = yield* version.search.decodeSearchRequest({
      question: "How many apples?",
      imageUrl: "data:image/png;base64,iVBORw0KGgo=",
      candidates: N,
      seed,
      deadlineMs: 600_000,
    })
    yield* version.search
      .runSearch(request)
      .pipe(Effect.provide(Layer.mergeAll(generator.layer, judge.layer, capacity)))
    return generator.started.length + judge.matches.length + judge.checks.length
  })
}

const searches = (version: Version) =>
  Effect.gen(function* () {
    let calls = 0
    for (let seed = 0; seed < SEARCHES; seed++) calls += yield* oneSearch(version, seed)
    return calls
  })

interface Counts {
  readonly calls: number
  readonly fibers: number
  readonly steps: number
}

const counted = (version: Version): Effect.Effect<Counts, unknown> =>
  Effect.gen(function* () {
    const fibersBefore = nextFiberId()
    const stepsBefore = steps
    const calls = yield* searches(version)
    return { calls, fibers: (nextFiberId() - fibersBefore - 1) / calls, steps: (steps - stepsBefore) / calls }
  })

const timed = (version: Version) =>
  Effect.gen(function* () {
    const before = process.cpuUsage()
    const calls = yield* searches(version)
    const used = process.cpuUsage(before)
    return (used.user + used.system) / calls
  })

const sorted = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)
const median = (values: ReadonlyArray<number>) => sorted(values)[Math.floor(values.length / 2)]!

const main = Effect.gen(function* () {
  const report = makeReport("search-overhead")
  const versions = [
    yield* Effect.promise(() => load("new", here)),
    yield* Effect.promise(() => load("base", baselineCheckout(BASELINE, "search-overhead-baseline"))),
  ] as const
  report.line(`The search's own cost per upstream call: this checkout ("new") vs ${BASELINE} ("base"), same process.`)
  report.line(
    `runSearch STAGE_BEAM N=${N} over the in-memory fakes (${LATENCY_MS} ms per call on the live clock), a deadline set, ` +
      `speculation ADAPTIVE with room; ${SEARCHES} searches (seeds 0..${SEARCHES - 1}) per block, ${BLOCKS} blocks per version taking turns after a warm-up.`,
  )
  for (const version of versions) yield* searches(version)
  const counts: Array<Counts> = []
  for (const version of versions) counts.push(yield* counted(version))
  const cpu: Array<Array<number>> = [[], []]
  for (let block = 0; block < BLOCKS; block++) {
    const order = block % 2 === 0 ? [0, 1] : [1, 0]
    for (const i of order) cpu[i]!.push(yield* timed(versions[i]!))
  }
  const [fresh, base] = counts as [Counts, Counts]
  const ratios = cpu[0]!.map((value, i) => value / cpu[1]![i]!)
  report.table(
    ["version", "calls/search", "fibers/call", "steps/call", "CPU µs/call min", "median"],
    versions.map((version, i) => [
      version.label,
      (counts[i]!.calls / SEARCHES).toFixed(1),
      counts[i]!.fibers.toFixed(2),
      counts[i]!.steps.toFixed(1),
      sorted(cpu[i]!)[0]!.toFixed(1),
      median(cpu[i]!).toFixed(1),
    ]),
  )
  report.line(
    `new/base: fibers ${(fresh.fibers / base.fibers).toFixed(2)}, steps ${(fresh.steps / base.steps).toFixed(2)}, ` +
      `CPU per call ${median(ratios).toFixed(2)} (median of the blocks' ratios; ${sorted(ratios)[0]!.toFixed(2)}–${sorted(ratios).at(-1)!.toFixed(2)})`,
  )
  report.line(
    "Steps are the run loops' op counts (a run loop entered again on the same fiber restarts its count, so they are a lower bound); the fakes' own work is in both.",
  )
  report.line(`saved ${report.save()}`)
})

Effect.runPromise(main)
