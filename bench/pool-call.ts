/**
 * The fleet's own CPU per upstream call: `pool.complete` (the generator's call: the pool's capabilities, then the
 * call) over 4 servers of an in-memory client that answers on the next turn of the event loop, 4 calls at a time,
 * the tracer off; this checkout against a baseline checkout (POOL_CALL_BASELINE, default 7336960), each in its own
 * process, taking turns (alternating which goes first). CPU of the process (process.cpuUsage) per block of calls,
 * after a warm-up block; what it measures is the pool's path between the search's port and the HTTP client:
 * picking a server, tracking the call, recording it (issue #24), plus the fake client's own turn.
 * Run: node --conditions=@stagebeam/source bench/pool-call.ts
 *   (POOL_CALL_ROUNDS=<processes per checkout>, default 6; POOL_CALL_BLOCKS=<blocks per process>, default 8;
 *   POOL_CALL_CALLS=<calls per block>, default 4000)
 */
import { execFileSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { baselineCheckout } from "./lib/baseline.ts"
import { makeReport } from "./lib/report.ts"
import { median } from "./lib/stats.ts"

const CHILD = process.env.POOL_CALL_CHILD
const BLOCKS = Number(process.env.POOL_CALL_BLOCKS ?? 8)
const CALLS = Number(process.env.POOL_CALL_CALLS ?? 4000)

/** One process's figures: µs of CPU per call in each block over the checkout at `root`. */
const measure = async (root: string): Promise<ReadonlyArray<number>> => {
  const require = createRequire(join(root, "package.json"))
  // The checkout's own effect and fleet (a baseline unpacked under tmp/ resolves effect upward, to this one's).
  const { Duration, Effect, Layer, References } = (await import(require.resolve("effect"))) as typeof import("effect")
  const { makePool } = (await import(
    join(root, "libs/fleet/src/Pool.ts")
  )) as typeof import("../libs/fleet/src/Pool.ts")
  const { OpenAiClient } = (await import(
    join(root, "libs/fleet/src/OpenAiClient.ts")
  )) as typeof import("../libs/fleet/src/OpenAiClient.ts")
  const completion = {
    id: "c",
    model: "m",
    choices: [
      { index: 0, message: { content: "x" }, finish_reason: "stop" },
      { index: 1, message: { content: "y" }, finish_reason: "stop" },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 20 },
  }
  const later = <A>(value: A) =>
    Effect.callback<A>((resume) => {
      setImmediate(() => resume(Effect.succeed(value)))
    })
  const client = Layer.succeed(
    OpenAiClient,
    OpenAiClient.of({
      chat: () => later(completion),
      post: () => later({}),
      health: () => Effect.succeed(true),
      serverLoad: () => Effect.succeed({ running: 2, waiting: 0, kvUsage: 0.1 }),
      get: (_target, path) =>
        Effect.succeed(
          path === "/version"
            ? { status: 200, json: { version: "0.10.2" } }
            : { status: 200, json: { data: [{ id: "m", owned_by: "vllm", max_model_len: 8192 }] } },
        ),
    }),
  )
  const program = Effect.gen(function* () {
    const pool = yield* makePool({
      name: "generator",
      endpoints: ["http://a:1", "http://b:1", "http://c:1", "http://d:1"],
      model: "m",
      requestTimeout: Duration.seconds(120),
      maxAttempts: 3,
      failureThreshold: 3,
      cooldown: Duration.seconds(30),
      healthInterval: Duration.seconds(10),
      metricsInterval: Duration.seconds(1),
      routing: { policy: "least-loaded", slowStartMs: 0 },
    })
    yield* pool.probeAll
    // Half generation calls (n = 2), half one-token verdicts, as a STAGE_BEAM step's calls are.
    const one = (i: number) =>
      Effect.flatMap(pool.capabilities, (capabilities) =>
        pool.complete(
          { messages: [], n: capabilities.n ? 2 : 1, max_tokens: i % 2 === 1 ? 1 : 256 },
          { label: i % 2 === 1 ? "judge-choice" : "gen-summary" },
        ),
      )
    const block = Effect.forEach(
      Array.from({ length: CALLS }, (_, i) => i),
      one,
      { concurrency: 4, discard: true },
    )
    yield* block
    const perCall: Array<number> = []
    for (let b = 0; b < BLOCKS; b++) {
      const before = process.cpuUsage()
      yield* block
      const used = process.cpuUsage(before)
      perCall.push((used.user + used.system) / CALLS)
    }
    return perCall
  }).pipe(
    Effect.scoped,
    Effect.provide(client),
    Effect.provideService(References.TracerEnabled, false),
    Effect.provideService(References.MinimumLogLevel, "Error"),
  )
  return Effect.runPromise(program)
}

if (CHILD !== undefined) {
  console.log(JSON.stringify(await measure(CHILD)))
} else {
  const ROUNDS = Number(process.env.POOL_CALL_ROUNDS ?? 6)
  const BASELINE = process.env.POOL_CALL_BASELINE ?? "7336960"
  const here = join(dirname(fileURLToPath(import.meta.url)), "..")
  const base = baselineCheckout(BASELINE, "pool-call-baseline")
  const run = (root: string) =>
    median(
      JSON.parse(
        execFileSync(process.execPath, ["--conditions=@stagebeam/source", fileURLToPath(import.meta.url)], {
          env: { ...process.env, POOL_CALL_CHILD: root },
          encoding: "utf8",
        })
          .trim()
          .split("\n")
          .at(-1)!,
      ) as Array<number>,
    )
  const rounds: Array<{ readonly now: number; readonly base: number }> = []
  for (let round = 0; round < ROUNDS; round++) {
    const baseFirst = round % 2 === 1
    const first = run(baseFirst ? base : here)
    const second = run(baseFirst ? here : base)
    rounds.push(baseFirst ? { now: second, base: first } : { now: first, base: second })
  }
  const report = makeReport("pool-call")
  report.line(`Command: node --conditions=@stagebeam/source bench/pool-call.ts (POOL_CALL_BASELINE=${BASELINE})`)
  report.line(
    `The fleet's CPU per upstream call: pool.complete over 4 servers of an in-memory client answering on the next ` +
      `event-loop turn, 4 calls at a time, tracer off; ${ROUNDS} processes per checkout taking turns, each the ` +
      `median of ${BLOCKS} blocks of ${CALLS} calls after a warm-up block (process.cpuUsage).`,
  )
  const spread = (values: ReadonlyArray<number>) =>
    `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`
  const ratios = rounds.map((r) => r.now / r.base)
  report.table(
    ["checkout", "µs CPU per call (median)", "spread"],
    [
      ["this checkout", median(rounds.map((r) => r.now)).toFixed(1), spread(rounds.map((r) => r.now))],
      [`baseline ${BASELINE}`, median(rounds.map((r) => r.base)).toFixed(1), spread(rounds.map((r) => r.base))],
    ],
  )
  report.line(
    `new/base: ${median(ratios).toFixed(2)} (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  )
  console.log(`saved ${report.save()}`)
}
