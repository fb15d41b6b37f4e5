import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  decodeSearchRequest,
  FleetCapacity,
  runSearch,
  type SearchEvent,
  type SearchRequestInput,
  type SearchResult,
} from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

const IMAGE = "data:image/png;base64,iVBORw0KGgo="

const setup = (spare = Number.POSITIVE_INFINITY) => {
  const gen = makeFakeGenerator({ latencyMs: 300, variants: 5 })
  const jud = makeFakeJudge({ latencyMs: 100 })
  const capacity = Layer.succeed(FleetCapacity, { spareSequences: Effect.succeed(spare) })
  return { gen, jud, layer: Layer.mergeAll(gen.layer, jud.layer, capacity) }
}

const search = (input: SearchRequestInput, services: ReturnType<typeof setup>) =>
  Effect.gen(function* () {
    const request = yield* decodeSearchRequest(input)
    const fiber = yield* Effect.forkChild(runSearch(request).pipe(Effect.provide(services.layer)))
    yield* TestClock.adjust(10_000_000)
    return yield* Fiber.join(fiber)
  })

/** The trace's decisions and candidates without their times (speculation changes when things happen, not what). */
const decisions = (result: SearchResult) =>
  result.trace
    .filter((event) => event._tag !== "SearchCutShort")
    .map((event: SearchEvent) => {
      const { atMs: _a, startedAtMs: _s, endedAtMs: _e, ...rest } = event as SearchEvent & Record<string, unknown>
      return rest
    })

const finishedAt = (result: SearchResult) => result.trace.find((event) => event._tag === "SearchFinished")!.atMs

const base = { question: "How many apples?", imageUrl: IMAGE, candidates: 4 } as const

describe("speculative next stage", () => {
  for (const [label, extra] of [
    ["KNOCKOUT, DEFAULT", {}],
    ["SEQUENTIAL", { tournament: "SEQUENTIAL" }],
    ["REFERENCE preset", { preset: "REFERENCE" }],
    ["N=8 with duplicates merged", { candidates: 8, duplicates: "MERGE" }],
    ["N=3 (a bye)", { candidates: 3 }],
  ] as const) {
    it.effect(`${label}: the same stages, decisions and usage as the plain search for every seed`, () =>
      Effect.gen(function* () {
        for (const seed of [1, 2, 3, 4, 5, 6]) {
          const plain = yield* search({ ...base, ...extra, seed, speculation: "OFF" }, setup())
          // From the final (width 2), from the round of four, and from each finished sample (wide).
          for (const speculationWidth of [2, 4, 64]) {
            const ahead = yield* search({ ...base, ...extra, seed, speculation: "ALWAYS", speculationWidth }, setup())
            assert.deepStrictEqual(ahead.stages, plain.stages)
            assert.deepStrictEqual(decisions(ahead), decisions(plain))
            assert.deepStrictEqual(ahead.usage, plain.usage)
          }
        }
      }),
    )
  }

  it.effect(
    "starts the next stage for both finalists as the final starts, keeps the winner's, interrupts the other",
    () =>
      Effect.gen(function* () {
        const plainServices = setup()
        const plain = yield* search({ ...base, seed: 7, speculation: "OFF" }, plainServices)
        const services = setup()
        const ahead = yield* search({ ...base, seed: 7, speculation: "ALWAYS" }, services)
        // 4 stages of 300 ms generation + 2 rounds of 100 ms; stages 2–4 start during the final before them.
        assert.strictEqual(finishedAt(plain), 4 * (300 + 2 * 100))
        assert.strictEqual(finishedAt(ahead), 4 * (300 + 2 * 100) - 3 * 100)
        // Stages 1–3 each had a final with two distinct finalists: two speculative calls each, one interrupted.
        const speculative = services.gen.started.filter((request) => request.speculative === true)
        assert.strictEqual(speculative.length, 6)
        assert.strictEqual(services.gen.interrupted.length, 3)
        assert.isTrue(services.gen.interrupted.every((request) => request.speculative === true))
        // The kept calls are exactly the plain search's (same prefix and seed).
        const key = (request: { prefix: string; seed: number }) => `${request.seed}:${request.prefix}`
        assert.deepStrictEqual(
          services.gen.log.map((entry) => key(entry.request)),
          plainServices.gen.log.map((entry) => key(entry.request)),
        )
        assert.strictEqual(plainServices.gen.started.length, 4)
      }),
  )

  it.effect("ADAPTIVE speculates only where the fleet has spare sequences for the call", () =>
    Effect.gen(function* () {
      // Room for the next stage's call but not for it and the final's judge call too.
      const full = setup(4)
      const busy = yield* search({ ...base, seed: 7, speculation: "ADAPTIVE" }, full)
      assert.strictEqual(full.gen.started.length, 4)
      assert.isFalse(full.gen.started.some((request) => request.speculative === true))
      assert.strictEqual(finishedAt(busy), 4 * (300 + 2 * 100))

      // Room for one finalist's n=4 call besides the final's judge call: one speculative call per stage boundary.
      const one = setup(5)
      const some = yield* search({ ...base, seed: 7, speculation: "ADAPTIVE" }, one)
      assert.strictEqual(one.gen.started.filter((request) => request.speculative === true).length, 3)
      const plain = yield* search({ ...base, seed: 7, speculation: "OFF" }, setup())
      assert.deepStrictEqual(decisions(some), decisions(plain))

      const idle = setup()
      yield* search({ ...base, seed: 7 }, idle)
      assert.strictEqual(idle.gen.started.filter((request) => request.speculative === true).length, 6)
    }),
  )

  it.effect("OFF never starts a call ahead; strategies other than STAGE_BEAM do not speculate", () =>
    Effect.gen(function* () {
      const off = setup()
      yield* search({ ...base, seed: 3, speculation: "OFF" }, off)
      assert.strictEqual(off.gen.started.length, 4)
      const best = setup()
      yield* search({ ...base, seed: 3, strategy: "BEST_OF_N", speculation: "ALWAYS" }, best)
      assert.strictEqual(best.gen.started.length, 1)
    }),
  )

  it.effect("a search cut short by its token budget interrupts what it started ahead", () =>
    Effect.gen(function* () {
      const plain = yield* search({ ...base, seed: 5, tokenBudget: 120, speculation: "OFF" }, setup())
      const services = setup()
      const ahead = yield* search({ ...base, seed: 5, tokenBudget: 120, speculation: "ALWAYS" }, services)
      assert.deepStrictEqual(ahead.stages, plain.stages)
      assert.deepStrictEqual(ahead.cutShort, plain.cutShort)
      const speculative = services.gen.started.filter((request) => request.speculative === true).length
      const kept = services.gen.log.filter((entry) => entry.request.speculative === true).length
      assert.strictEqual(services.gen.interrupted.length, speculative - kept)
    }),
  )
})

// Sample i of every call finishes at these ms (the call returns at the last); the judge takes 100 ms.
const finishing = [100, 400, 150, 380]
const staggered = (spare = Number.POSITIVE_INFINITY) => {
  const gen = makeFakeGenerator({ sampleLatencyMs: (_, index) => finishing[index % 4]! })
  const jud = makeFakeJudge({ latencyMs: 100 })
  const capacity = Layer.succeed(FleetCapacity, { spareSequences: Effect.succeed(spare) })
  return { gen, jud, layer: Layer.mergeAll(gen.layer, jud.layer, capacity) }
}

describe("wide speculation: the next stage starts for each candidate as its sample finishes", () => {
  it.effect("the plain search's decisions, sooner than from the final; every loser's call interrupted", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2, 3, 4]) {
        const plain = yield* search({ ...base, seed, speculation: "OFF" }, staggered())
        const final = yield* search({ ...base, seed, speculation: "ALWAYS", speculationWidth: 2 }, staggered())
        const services = staggered()
        const wide = yield* search({ ...base, seed, speculation: "ALWAYS", speculationWidth: 64 }, services)
        assert.deepStrictEqual(decisions(wide), decisions(plain))
        assert.deepStrictEqual(wide.usage, plain.usage)
        assert.isBelow(finishedAt(final), finishedAt(plain))
        assert.isBelow(finishedAt(wide), finishedAt(final))
        // Each of the 3 stage boundaries started a call for every distinct candidate; one per boundary was kept.
        const speculative = services.gen.started.filter((request) => request.speculative === true)
        const distinct = (step: number) =>
          new Set(
            wide.trace.flatMap((event) =>
              event._tag === "CandidateGenerated" && event.step === step ? [event.text] : [],
            ),
          ).size
        assert.strictEqual(speculative.length, distinct(0) + distinct(1) + distinct(2))
        // The rest were interrupted, but for a loser's call that had finished before its candidate lost.
        const returned = services.gen.log.filter((entry) => entry.request.speculative === true).length
        assert.isAtLeast(returned, 3)
        assert.strictEqual(services.gen.interrupted.length, speculative.length - returned)
        assert.isAtLeast(services.gen.interrupted.length, 3)
        assert.isTrue(services.gen.interrupted.every((request) => request.speculative === true))
      }
    }),
  )

  it.effect("starts as each sample finishes, leaving the last to the tournament (its judge calls go first)", () =>
    Effect.gen(function* () {
      const services = staggered()
      yield* search({ ...base, seed: 5, speculation: "ALWAYS", speculationWidth: 64 }, services)
      // Stage 0's samples finish at 100, 150, 380 and 400 ms: the first three start stage 1 on arrival, the last
      // once the first round's matches are asked (at 400).
      const firstBoundary = services.gen.log.filter((entry) => entry.request.speculative === true)
      assert.isAtLeast(firstBoundary.length, 3)
      const startedAt = services.gen.startedAtMs
        .filter((_, i) => services.gen.started[i]!.speculative === true)
        .slice(0, 4)
      assert.deepStrictEqual(startedAt, [100, 150, 380, 400])
    }),
  )

  it.effect(
    "a stage whose samples are all one text keeps the call started for it: the next stage is not asked twice",
    () =>
      Effect.gen(function* () {
        const gen = makeFakeGenerator({ sampleLatencyMs: (_, index) => finishing[index % 4]!, variants: 1 })
        const jud = makeFakeJudge({ latencyMs: 100 })
        const layer = Layer.mergeAll(gen.layer, jud.layer)
        const wide = yield* search(
          { ...base, seed: 8, speculation: "ALWAYS", speculationWidth: 64 },
          { gen, jud, layer },
        )
        const plainGen = makeFakeGenerator({ sampleLatencyMs: (_, index) => finishing[index % 4]!, variants: 1 })
        const plain = yield* search(
          { ...base, seed: 8, speculation: "OFF" },
          { gen: plainGen, jud, layer: Layer.mergeAll(plainGen.layer, jud.layer) },
        )
        assert.deepStrictEqual(decisions(wide), decisions(plain))
        // One call per stage, as the plain search: the first, then each started ahead on the only text and kept.
        assert.strictEqual(gen.started.length, 4)
        assert.strictEqual(gen.started.filter((request) => request.speculative === true).length, 3)
        assert.strictEqual(gen.interrupted.length, 0)
      }),
  )

  it.effect("ADAPTIVE: a candidate's call starts only where the fleet has room for all of its sequences", () =>
    Effect.gen(function* () {
      const none = staggered(3)
      yield* search({ ...base, seed: 6, speculation: "ADAPTIVE", speculationWidth: 64 }, none)
      assert.isFalse(none.gen.started.some((request) => request.speculative === true))
      // Room for one n=4 call beside nothing else: the arrivals get theirs, the rounds' (judge calls first) do not.
      const some = staggered(4)
      const result = yield* search({ ...base, seed: 6, speculation: "ADAPTIVE", speculationWidth: 64 }, some)
      const plain = yield* search({ ...base, seed: 6, speculation: "OFF" }, staggered())
      assert.deepStrictEqual(decisions(result), decisions(plain))
      const speculative = some.gen.started.filter((request) => request.speculative === true).length
      assert.isAtLeast(speculative, 3)
      assert.isAtMost(speculative, 9)
    }),
  )
})

describe("stragglers: matches start on the first samples while the others decode", () => {
  const plain = { ...base, speculation: "OFF" } as const

  it.effect("off (the default, and always for REFERENCE): the seeded knockout, the same as before", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2, 3]) {
        const seeded = yield* search({ ...plain, seed, stragglers: false }, staggered())
        const byDefault = yield* search({ ...plain, seed }, staggered())
        assert.deepStrictEqual(decisions(byDefault), decisions(seeded))
        const reference = yield* search({ ...plain, seed, preset: "REFERENCE" }, staggered())
        const referenceOff = yield* search({ ...plain, seed, preset: "REFERENCE", stragglers: false }, staggered())
        assert.deepStrictEqual(decisions(reference), decisions(referenceOff))
      }
    }),
  )

  it.effect("pairs the samples in finishing order and plays the first match before the slowest sample is done", () =>
    Effect.gen(function* () {
      const services = staggered()
      const result = yield* search({ ...plain, seed: 4, stragglers: true }, services)
      const matches = result.trace.filter((event) => event._tag === "MatchJudged")
      const step0 = matches.filter((match) => match.step === 0)
      // Samples 0 and 2 finish first (100, 150 ms): they meet in the first match, at 150–250 ms, before sample 1
      // (400 ms); its winner meets sample 3 when it arrives (380–480), and that winner sample 1 in the final.
      const first = step0.find((match) => match.round === 0)!
      assert.deepStrictEqual([first.first, first.second].sort(), [0, 2])
      assert.strictEqual(first.startedAtMs, 150)
      const [second, final] = step0.filter((match) => match.round > 0)
      assert.include([second!.first, second!.second], 3)
      assert.strictEqual(second!.startedAtMs, 380)
      assert.include([final!.first, final!.second], 1)
      assert.strictEqual(final!.startedAtMs, 480)
      // Per stage 580 ms against 400 + 2 × 100 for the seeded knockout.
      const plainResult = yield* search({ ...plain, seed: 4, stragglers: false }, staggered())
      assert.strictEqual(finishedAt(plainResult), 4 * (400 + 200))
      assert.strictEqual(finishedAt(result), 4 * 580)
      assert.strictEqual(result.usage.judgeCalls, plainResult.usage.judgeCalls)
      assert.deepStrictEqual(
        result.stages.map((stage) => stage.stage),
        ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
      )
    }),
  )

  it.effect("with a straggler far behind, the bracket's first round is over before it arrives", () =>
    Effect.gen(function* () {
      const gen = makeFakeGenerator({ sampleLatencyMs: (_, index) => [100, 120, 140, 600][index]! })
      const jud = makeFakeJudge({ latencyMs: 100 })
      const services = { gen, jud, layer: Layer.mergeAll(gen.layer, jud.layer) }
      const plainResult = yield* search({ ...plain, seed: 5, stragglers: false }, services)
      const streamed = yield* search({ ...plain, seed: 5, stragglers: true }, services)
      assert.strictEqual(finishedAt(plainResult), 4 * (600 + 200))
      // 0–1 play at 120–220, their winner 2 at 220–320; 3 arrives at 600 for the final: 700 per stage.
      assert.strictEqual(finishedAt(streamed), 4 * 700)
      // With speculation as well, the next stage starts during each final.
      const both = yield* search({ ...base, seed: 5, stragglers: true, speculation: "ALWAYS" }, services)
      assert.isBelow(finishedAt(both), finishedAt(streamed))
    }),
  )

  it.effect("with speculation: the final is known as it starts, and the loser's next stage is interrupted", () =>
    Effect.gen(function* () {
      const services = staggered()
      const result = yield* search({ ...base, seed: 6, stragglers: true, speculation: "ALWAYS" }, services)
      const speculative = services.gen.started.filter((request) => request.speculative === true).length
      assert.isAtLeast(speculative, 3)
      assert.isAtLeast(services.gen.interrupted.length, 1)
      const streamedOnly = yield* search({ ...base, seed: 6, stragglers: true, speculation: "OFF" }, staggered())
      assert.deepStrictEqual(decisions(result), decisions(streamedOnly))
      assert.isBelow(finishedAt(result), finishedAt(streamedOnly))
    }),
  )
})
