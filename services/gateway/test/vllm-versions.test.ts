// The gateway over fleets of the vLLM versions it meets, as vllm-sim models them from vLLM's source: 0.10.2 (V0,
// mllama: guided_choice only, structured_outputs accepted and ignored) and 0.12 (structured_outputs only). What the
// gateway sends is read off a recording proxy in front of the server, what it got from the search's trace.
import { assert, describe, it } from "@effect/vitest"
import type { ReasonResponse__Output } from "@stagebeam/proto"
import type { BehaviourName } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { pngImage, recordingProxy, startGateway, startSimulators } from "./harness.ts"

const QUESTION = "How many apples are on the table?\nA. two\nB. three\nC. four\nD. five"

/** The judged matches of a search (a verdict was asked). */
const verdictsOf = (response: ReasonResponse__Output) =>
  response.trace.flatMap((event) =>
    event.match && ["JUDGE", "MARGIN", "COIN"].includes(event.match.decidedBy) ? [event.match] : [],
  )

interface SentChat {
  readonly max_tokens?: number
  readonly n?: number
  readonly temperature?: number
  readonly guided_choice?: unknown
  readonly structured_outputs?: unknown
}

const chatBodies = (seen: ReadonlyArray<{ path: string; body: Buffer }>) =>
  seen
    .filter((request) => request.path === "/v1/chat/completions" && request.body.length > 0)
    .map((request) => ({ json: JSON.parse(request.body.toString()) as SentChat, text: request.body.toString() }))

/** A generator pool of one simulated server of `behaviour` behind a recording proxy, and a gateway over it. */
const fleetOf = (behaviour: BehaviourName) =>
  Effect.gen(function* () {
    const [server] = yield* startSimulators(1, { behaviour })
    const proxy = yield* recordingProxy(server!.url)
    const { client } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
    return { server: server!, proxy, client }
  })

const searches = (client: Effect.Success<ReturnType<typeof fleetOf>>["client"], judge: string) =>
  Effect.gen(function* () {
    const image = { data: yield* pngImage() }
    return yield* Effect.forEach([1, 2, 3], (seed) =>
      client.Reason({
        question: QUESTION,
        image,
        search: { seed: String(seed) },
        judge: { name: judge },
        includeTrace: true,
      }),
    )
  })

describe("the gateway over vLLM 0.10.2 and 0.12 fleets", () => {
  for (const [behaviour, field, other] of [
    ["vllm-0.10", "guided_choice", "structured_outputs"],
    ["vllm-0.12", "structured_outputs", "guided_choice"],
  ] as const) {
    it.live(`${behaviour}: CHOICE verdicts go with ${field}, and at least 95% come back constrained`, () =>
      Effect.gen(function* () {
        const { server, proxy, client } = yield* fleetOf(behaviour)
        const listed = yield* client.ListJudges({})
        const self = listed.judges.find((judge) => judge.name === "self")
        assert.strictEqual(self?.capabilities?.constrainedChoice, field)
        assert.deepStrictEqual(self?.capabilities?.ignoredFields, [])
        const verdicts = (yield* searches(client, "self")).flatMap(verdictsOf)
        assert.isAtLeast(verdicts.length, 10)
        const constrained = verdicts.filter((match) => match.verdictMode === "CHOICE").length
        assert.isAtLeast(constrained / verdicts.length, 0.95, `${constrained} of ${verdicts.length} constrained`)
        const sent = chatBodies(proxy.seen)
        assert.isAbove(sent.filter((chat) => chat.json[field] !== undefined).length, 0)
        // The other field is never sent, by the probe or the judge: the server would ignore it.
        assert.strictEqual(sent.filter((chat) => chat.json[other] !== undefined).length, 0)
        assert.deepStrictEqual(server.stats().ignoredFields, {})
        // vLLM refuses n > 1 at temperature 0: the gateway never asks it.
        assert.isFalse(sent.some((chat) => (chat.json.n ?? 1) > 1 && chat.json.temperature === 0))
      }),
    )
  }

  it.live(
    "a server whose version misleads (0.10.2's fields, 0.12's number) is probed right; ListJudges names the field it ignores",
    () =>
      Effect.gen(function* () {
        const [server] = yield* startSimulators(1, {
          behaviour: "vllm-0.10",
          behaviourOverrides: { version: "0.12.0" },
        })
        const { client } = yield* startGateway({ pools: { generator: { endpoints: [server!.url] } } })
        const self = (yield* client.ListJudges({})).judges.find((judge) => judge.name === "self")
        assert.strictEqual(self?.capabilities?.constrainedChoice, "guided_choice")
        assert.deepStrictEqual(self?.capabilities?.ignoredFields, ["structured_outputs"])
        assert.strictEqual(self?.verdicts, "choice")
        // The probe's one unconstrained answer; every verdict after it goes with guided_choice.
        const verdicts = (yield* searches(client, "self")).flatMap(verdictsOf)
        assert.isTrue(verdicts.every((match) => match.verdictMode === "CHOICE"))
        assert.strictEqual(server!.stats().ignoredFields.structured_outputs, 1)
      }),
  )

  it.live("a free-text verdict asks for at most 128 tokens (the reference's sentence), not 2048", () =>
    Effect.gen(function* () {
      const { proxy, client } = yield* fleetOf("vllm-0.10")
      const verdicts = (yield* searches(client, "self-free-text")).flatMap(verdictsOf)
      assert.isAbove(verdicts.length, 0)
      assert.isTrue(verdicts.every((match) => match.verdictMode === "FREE_TEXT"))
      const freeText = chatBodies(proxy.seen).filter((chat) => chat.text.includes("I choose response [1/2]"))
      assert.strictEqual(freeText.length, verdicts.length)
      for (const chat of freeText) assert.isAtMost(chat.json.max_tokens ?? Number.POSITIVE_INFINITY, 128)
    }),
  )

  it.live("the reward judge sends no image to a text-only pool, and the image to one declared images: true", () =>
    Effect.gen(function* () {
      const [generator] = yield* startSimulators(1)
      const [textOnly] = yield* startSimulators(1, { model: "rm", task: "reward" })
      const [vision] = yield* startSimulators(1, { model: "rm", task: "reward" })
      const textProxy = yield* recordingProxy(textOnly!.url)
      const visionProxy = yield* recordingProxy(vision!.url)
      const { client } = yield* startGateway({
        pools: {
          generator: { endpoints: [generator!.url] },
          reward: { endpoints: [textProxy.url], model: "rm", capabilities: { pooling: true } },
          vision: { endpoints: [visionProxy.url], model: "rm", capabilities: { pooling: true, images: true } },
        },
        judges: {
          self: { kind: "pairwise", pool: "generator" },
          rm: { kind: "reward", pool: "reward" },
          vrm: { kind: "reward", pool: "vision" },
        },
        defaultJudge: "self",
      })
      const image = { data: yield* pngImage() }
      for (const name of ["rm", "vrm"])
        yield* client.Reason({ question: QUESTION, image, search: { seed: "4" }, judge: { name } })
      const pooled = (seen: ReadonlyArray<{ path: string; body: Buffer }>) =>
        seen.filter((request) => request.path === "/pooling").map((request) => request.body.toString())
      assert.isAbove(pooled(textProxy.seen).length, 0)
      assert.isTrue(pooled(textProxy.seen).every((body) => !body.includes("image_url")))
      assert.strictEqual(textOnly!.stats().imagesEncoded, 0)
      assert.isTrue(pooled(visionProxy.seen).every((body) => body.includes("image_url")))
    }),
  )
})
