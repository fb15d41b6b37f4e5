import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Ref } from "effect"
import fc from "fast-check"
import { OpenAiClient } from "../src/OpenAiClient.ts"
import { makePool } from "../src/Pool.ts"
import {
  compareScores,
  type EndpointView,
  eligibleServers,
  inTurn,
  kvCacheScorer,
  latencyScorer,
  loadScorer,
  lowest,
  preferring,
  type RouteRequest,
  type RoutingPolicyDefinition,
  routingPolicies,
  shortCallsScorer,
  twoChoices,
  unsaturated,
  untried,
} from "../src/Routing.ts"

const view = fc.record({
  url: fc.constantFrom("a", "b", "c", "d", "e"),
  member: fc.record({
    up: fc.boolean(),
    leaving: fc.boolean(),
    probation: fc.boolean(),
    share: fc.double({ min: 0.1, max: 1, noNaN: true }),
  }),
  traffic: fc.record({ sequences: fc.nat(40), requests: fc.nat(10), short: fc.nat(10), latencyMs: fc.nat(5000) }),
  report: fc.option(
    fc.record({ running: fc.nat(40), waiting: fc.nat(20), kvUsage: fc.double({ min: 0, max: 1, noNaN: true }) }),
    {
      nil: undefined,
    },
  ),
  load: fc.nat(80),
}) as fc.Arbitrary<EndpointView>

const request = fc.record({
  tried: fc.subarray(["a", "b", "c", "d", "e"]).map((urls) => new Set(urls)),
  short: fc.boolean(),
  random: fc.double({ min: 0, max: 0.999, noNaN: true }).map((x) => () => x),
  turn: fc.nat(100),
}) as fc.Arbitrary<RouteRequest>

const views = fc.array(view, { maxLength: 8 })
const scorers = [shortCallsScorer, loadScorer, kvCacheScorer, latencyScorer]

describe("routing plugins (pure, property-tested)", () => {
  it("each filter keeps a subset of its input, in order; a preference never empties a non-empty field", () => {
    fc.assert(
      fc.property(views, request, (field, asked) => {
        for (const filter of [eligibleServers, untried, unsaturated, preferring(untried, unsaturated)]) {
          const kept = filter(field, asked)
          const positions = kept.map((v) => field.indexOf(v))
          if (positions.some((p) => p === -1)) return false
          if (positions.some((p, i) => i > 0 && p <= positions[i - 1]!)) return false
        }
        return field.length === 0 || preferring(untried, unsaturated)(field, asked).length > 0
      }),
    )
  })

  it("scorers: more load, short calls, KV usage or latency never scores better; a long call ignores short calls", () => {
    fc.assert(
      fc.property(view, request, fc.nat(10), (v, asked, more) => {
        const heavier: EndpointView = {
          ...v,
          load: v.load + more,
          traffic: { ...v.traffic, short: v.traffic.short + more, latencyMs: v.traffic.latencyMs + more },
        }
        return (
          scorers.every((score) => score(heavier, asked) >= score(v, asked)) &&
          shortCallsScorer(heavier, { ...asked, short: false }) === 0
        )
      }),
    )
  })

  it("pickers pick one of the field; lowest picks a best score, two choices one no worse than a random draw", () => {
    fc.assert(
      fc.property(fc.array(view, { minLength: 1, maxLength: 8 }), request, (field, asked) => {
        const scored = field.map((v) => ({ view: v, scores: scorers.map((score) => score(v, asked)) }))
        const scoresOf = (picked: EndpointView) => scored.find((entry) => entry.view === picked)!.scores
        const best = lowest(scored, asked)
        const two = twoChoices(scored, asked)
        return (
          [best, two, inTurn(scored, asked)].every((picked) => field.includes(picked)) &&
          scored.every((entry) => compareScores(scoresOf(best), entry.scores) <= 0) &&
          inTurn(scored, asked) === field[asked.turn % field.length]
        )
      }),
    )
  })
})

/** A new policy, as one value: the servers in reverse name order, whatever their load. */
const lastByName: RoutingPolicyDefinition = {
  name: "last-by-name",
  filters: [eligibleServers],
  scorers: [],
  picker: (scored) => scored.reduce((last, entry) => (entry.view.url > last.view.url ? entry : last)).view,
}

describe("a routing policy added as one value", () => {
  it.effect("is used by name by a pool", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const client = Layer.succeed(
        OpenAiClient,
        OpenAiClient.of({
          chat: ({ server }) =>
            Effect.as(
              Ref.update(calls, (all) => [...all, server]),
              {
                id: "c",
                model: "m",
                choices: [{ index: 0, message: { content: "ok" }, finish_reason: "stop" }],
                usage: { prompt_tokens: 1, completion_tokens: 1 },
              },
            ),
          post: () => Effect.die(new Error("chat only")),
          health: () => Effect.succeed(true),
          serverLoad: () => Effect.succeed(undefined),
          get: () => Effect.succeed(undefined),
        }),
      )
      const pool = yield* makePool({
        name: "generator",
        endpoints: ["http://a", "http://c", "http://b"],
        model: "m",
        requestTimeout: Duration.seconds(5),
        maxAttempts: 3,
        failureThreshold: 2,
        cooldown: Duration.seconds(30),
        healthInterval: Duration.seconds(10),
        metricsInterval: Duration.seconds(10),
        routing: { policy: "last-by-name", slowStartMs: 0, policies: routingPolicies(lastByName) },
      }).pipe(Effect.provide(client))
      yield* Effect.forEach([1, 2, 3, 4], (i) => pool.complete({ messages: [] }, { label: `${i}` }), {
        concurrency: 4,
      })
      // Least-loaded would spread four concurrent calls over the three servers.
      assert.deepStrictEqual(yield* Ref.get(calls), ["http://c", "http://c", "http://c", "http://c"])
    }),
  )
})
