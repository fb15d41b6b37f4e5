import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { deriveSeed, type MatchRecord, type Outcome, runTournament, type TournamentKind } from "../src/index.ts"

// A judge over plain strings whose preference depends on the seed and both texts (and on the order shown),
// so winners vary from case to case but are reproducible.
const biasedCompare = (seed: number) => (first: string, second: string) =>
  Effect.succeed<Outcome>({ winner: deriveSeed(seed, first, second) % 2 === 0 ? 0 : 1 })

const entrantsArb = fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"), {
  minLength: 1,
  maxLength: 24,
})
const kindArb = fc.constantFrom<TournamentKind>("KNOCKOUT", "SEQUENTIAL")

const play = (kind: TournamentKind, entrants: ReadonlyArray<string>, seed: number) =>
  Effect.gen(function* () {
    let calls = 0
    const compare = (first: string, second: string) => {
      calls++
      return biasedCompare(seed)(first, second)
    }
    const result = yield* runTournament(kind, entrants, compare, { seed, key: (text) => text })
    return { result, calls }
  })

describe("tournaments (property tests)", () => {
  it("play exactly distinct − 1 matches, in ⌈log₂ distinct⌉ (KNOCKOUT) or distinct − 1 (SEQUENTIAL) rounds", async () => {
    await fc.assert(
      fc.asyncProperty(kindArb, entrantsArb, fc.nat(), async (kind, entrants, seed) => {
        const { result, calls } = await Effect.runPromise(play(kind, entrants, seed))
        const distinct = new Set(entrants).size
        assert.strictEqual(calls, distinct - 1)
        assert.strictEqual(result.matches.length, distinct - 1)
        assert.strictEqual(result.rounds, kind === "KNOCKOUT" ? Math.ceil(Math.log2(distinct)) : distinct - 1)
        assert.isFalse(result.cutShort)
      }),
      { numRuns: 300 },
    )
  })

  it("never judge two equal texts, and the winner never lost a match", async () => {
    await fc.assert(
      fc.asyncProperty(kindArb, entrantsArb, fc.nat(), async (kind, entrants, seed) => {
        const { result } = await Effect.runPromise(play(kind, entrants, seed))
        const loserOf = (match: MatchRecord<Outcome>) => (match.winner === match.first ? match.second : match.first)
        for (const match of result.matches) assert.notStrictEqual(entrants[match.first], entrants[match.second])
        assert.notInclude(result.matches.map(loserOf), result.winner)
        // Every other distinct entrant lost exactly once; the winner is a first occurrence.
        const losers = result.matches.map(loserOf)
        assert.strictEqual(new Set(losers).size, losers.length)
        assert.strictEqual(entrants.indexOf(entrants[result.winner]!), result.winner)
        assert.deepStrictEqual(
          result.mergedInto.map((index) => entrants[index]),
          entrants,
        )
      }),
      { numRuns: 300 },
    )
  })

  it("give equal traces for equal seeds", async () => {
    await fc.assert(
      fc.asyncProperty(kindArb, entrantsArb, fc.nat(), async (kind, entrants, seed) => {
        const once = await Effect.runPromise(play(kind, entrants, seed))
        const twice = await Effect.runPromise(play(kind, entrants, seed))
        assert.deepStrictEqual(once.result, twice.result)
      }),
      { numRuns: 200 },
    )
  })

  it("vary the pairing with the seed", async () => {
    const entrants = ["a", "b", "c", "d", "e", "f", "g", "h"]
    const firstRounds = new Set<string>()
    for (let seed = 0; seed < 20; seed++) {
      const { result } = await Effect.runPromise(play("KNOCKOUT", entrants, seed))
      firstRounds.add(JSON.stringify(result.matches.filter((m) => m.round === 0).map((m) => [m.first, m.second])))
    }
    assert.isAbove(firstRounds.size, 1)
  })

  it("stop when told to and return the entrant with most wins so far", async () => {
    await fc.assert(
      fc.asyncProperty(kindArb, entrantsArb, fc.nat(), fc.nat({ max: 5 }), async (kind, entrants, seed, allowed) => {
        const result = await Effect.runPromise(
          runTournament(kind, entrants, biasedCompare(seed), {
            seed,
            key: (text) => text,
            continueRound: (round) => Effect.succeed(round < allowed),
          }),
        )
        const distinct = new Set(entrants).size
        const fullRounds = kind === "KNOCKOUT" ? Math.ceil(Math.log2(distinct)) : distinct - 1
        assert.strictEqual(result.rounds, Math.min(allowed, fullRounds))
        assert.strictEqual(result.cutShort, allowed < fullRounds)
        const losers = new Set(result.matches.map((m) => (m.winner === m.first ? m.second : m.first)))
        assert.isFalse(losers.has(result.winner))
      }),
      { numRuns: 200 },
    )
  })
})

describe("knockout timing (TestClock)", () => {
  // Each match sleeps a latency drawn from the pair; a round must last exactly as long as its slowest match.
  it.effect("runs the matches of a round in parallel: total time is the sum of each round's slowest match", () =>
    Effect.gen(function* () {
      const entrants = ["a", "b", "c", "d", "e", "f", "g"]
      const latency = (first: string, second: string) => 100 + (deriveSeed(7, first, second) % 900)
      const ended: Array<{ round: number; at: number; latency: number }> = []
      const compare = (first: string, second: string, slot: { round: number }) =>
        Effect.gen(function* () {
          yield* Effect.sleep(latency(first, second))
          ended.push({ round: slot.round, at: yield* Clock.currentTimeMillis, latency: latency(first, second) })
          return { winner: 0 as const }
        })
      const fiber = yield* Effect.forkChild(runTournament("KNOCKOUT", entrants, compare, { seed: 3, key: (t) => t }))
      yield* TestClock.adjust(100_000)
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.rounds, 3)
      let roundStart = 0
      for (let round = 0; round < result.rounds; round++) {
        const inRound = ended.filter((e) => e.round === round)
        for (const e of inRound) assert.strictEqual(e.at, roundStart + e.latency)
        roundStart += Math.max(...inRound.map((e) => e.latency))
      }
      const sequentialTime = ended.reduce((sum, e) => sum + e.latency, 0)
      assert.isBelow(roundStart, sequentialTime)
    }),
  )
})
