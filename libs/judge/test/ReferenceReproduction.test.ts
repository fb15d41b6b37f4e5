import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { continuationPrefix } from "@stagebeam/cot"
import { ASSUMED, type ChatRequest, type Pool } from "@stagebeam/fleet"
import {
  decodeSearchRequest,
  type GeneratedText,
  type GenerationRequest,
  Judge,
  runSearch,
  type SearchResult,
} from "@stagebeam/search"
import { makeFakeGenerator } from "@stagebeam/search/testing"
import { Effect, Layer } from "effect"
import { makePairwiseJudge } from "../src/PairwiseJudge.ts"

/**
 * One match of the REFERENCE preset, through the real PairwiseJudge, against what the reference's own judge()
 * sent and returned on the same candidates and model answers (fixtures/reference-judge.json, written by
 * fixtures/reference-judge.py from simple_inference.py itself): every prompt byte for byte, in the same order, with
 * the image where the reference shows it, and the same winner. Where the reference crashes (IndexError), the
 * documented deviation: the prompts it sent before crashing, then the readable reasoning wins after its check, or
 * the second when neither is readable.
 */

interface Fixture {
  readonly name: string
  readonly type: "summary" | "caption" | "reasoning" | "conclusion" | "all" | "sentence"
  readonly question: string
  readonly prefix: string
  readonly texts: readonly [string, string]
  readonly replies: ReadonlyArray<string>
  readonly sent: ReadonlyArray<{ readonly image: boolean; readonly text: string }>
  readonly winner?: 0 | 1
  readonly crash?: string
}

const fixtures: ReadonlyArray<Fixture> = JSON.parse(
  readFileSync(new URL("./fixtures/reference-judge.json", import.meta.url), "utf8"),
)

const IMAGE = "data:image/png;base64,iVBORw0KGgo="
const STAGES = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"] as const
// The stages around the searched one, when the case's prefix does not provide them.
const FILLER: Record<string, string> = {
  "</SUMMARY>": "<SUMMARY>A plan.</SUMMARY>",
  "</CAPTION>": "\n\n<CAPTION>A caption.</CAPTION>",
  "</REASONING>": "\n\n<REASONING>A reasoning.</REASONING>",
  "</CONCLUSION>": "\n\n<CONCLUSION>B</CONCLUSION>",
}

const sampleOf = (text: string, stops: ReadonlyArray<string>): GeneratedText => ({
  text,
  // A candidate that reached none of its stop strings ran out of tokens.
  finishReason: stops.some((stop) => (stop === "." ? text.endsWith(".") : text.includes(stop))) ? "stop" : "length",
  completionTokens: 3,
})

/** The generator of a fixture: the case's two texts at the searched step, the case's prefix before it, fillers after. */
const samplesFor = (fixture: Fixture) => (request: GenerationRequest) => {
  const stop = request.stop[0] ?? ""
  const both = (text: string) => Array.from({ length: request.n }, () => sampleOf(text, request.stop))
  // Each stage is continued after the model's own "\n\n" (continuationPrefix): the texts go on from there.
  const prefix = continuationPrefix(fixture.prefix)
  const own = (text: string) => (prefix.endsWith("\n\n") && text.startsWith("\n\n") ? text.slice(2) : text)
  if (request.prefix === prefix) return fixture.texts.map((text) => sampleOf(own(text), request.stop))
  if (prefix.startsWith(request.prefix)) {
    const rest = prefix.slice(request.prefix.length)
    if (fixture.type === "sentence") return both(rest.slice(0, rest.indexOf(".") + 1))
    const end = rest.indexOf(stop)
    return both(end === -1 ? rest : rest.slice(0, end + stop.length))
  }
  return both(fixture.type === "sentence" ? "</CONCLUSION>" : (FILLER[stop] ?? ""))
}

const kindOf = (fixture: Fixture) =>
  fixture.type === "all" ? "ALL" : fixture.type === "sentence" ? "SENTENCE" : fixture.type.toUpperCase()

/** A pool that answers the searched step's calls with the fixture's replies and every other call with "1". */
const scriptedPool = (fixture: Fixture, sent: Array<{ readonly label: string; readonly request: ChatRequest }>) => {
  const replies = [...fixture.replies]
  const targeted = new Set([`judge-${kindOf(fixture).toLowerCase()}`, "judge-check"])
  const pool: Pool = {
    name: "judge",
    model: "m",
    complete: (request, options) =>
      Effect.sync(() => {
        const target = targeted.has(options.label)
        if (target) sent.push({ label: options.label, request })
        const content = target ? (replies.shift() ?? "unscripted") : "Since it is fine, I choose response 1."
        return {
          server: "http://judge",
          completion: {
            id: "c",
            model: "m",
            choices: [{ index: 0, message: { content }, finish_reason: "stop" }],
            usage: { prompt_tokens: 1, completion_tokens: 1 },
          },
        }
      }),
    post: () => Effect.die(new Error("this pool serves chat only")),
    snapshot: Effect.succeed([]),
    upCount: Effect.succeed(1),
    capabilities: Effect.succeed(ASSUMED),
    statuses: Effect.succeed(new Map()),
    probeAll: Effect.void,
  }
  return pool
}

const searchedStep = (fixture: Fixture, result: SearchResult) =>
  fixture.type === "all"
    ? 0
    : fixture.type === "sentence"
      ? (result.trace.find((event) => event._tag === "MatchJudged")?.step ?? -1)
      : STAGES.indexOf(kindOf(fixture) as (typeof STAGES)[number])

const runFixture = (fixture: Fixture, seed: number) =>
  Effect.gen(function* () {
    const sent: Array<{ readonly label: string; readonly request: ChatRequest }> = []
    const generator = makeFakeGenerator({ samples: samplesFor(fixture) })
    const judge = makePairwiseJudge(scriptedPool(fixture, sent))
    const request = yield* decodeSearchRequest({
      question: fixture.question,
      imageUrl: IMAGE,
      strategy: fixture.type === "all" ? "BEST_OF_N" : fixture.type === "sentence" ? "SENTENCE_BEAM" : "STAGE_BEAM",
      candidates: 2,
      seed,
      preset: "REFERENCE",
    })
    const result = yield* runSearch(request).pipe(
      Effect.provide(Layer.merge(generator.layer, Layer.succeed(Judge, judge))),
    )
    const step = searchedStep(fixture, result)
    const match = result.trace.find((event) => event._tag === "MatchJudged" && event.step === step)
    return { sent, result, match: match?._tag === "MatchJudged" ? match : undefined }
  })

/** The first seed whose pairing shows the case's first text first, as the reference's `outputs` order does. */
const inReferenceOrder = (fixture: Fixture) =>
  Effect.gen(function* () {
    for (let seed = 1; seed < 64; seed++) {
      const run = yield* runFixture(fixture, seed)
      if (run.match?.first === 0) return run
    }
    return yield* Effect.die(new Error("no seed in 1..63 pairs the candidates in order"))
  })

const partsOf = (request: ChatRequest) =>
  (request.messages[0]?.content ?? []) as ReadonlyArray<{ readonly type: string; readonly text?: string }>

describe("the REFERENCE preset sends what simple_inference.py's judge() sends, and picks what it picks", () => {
  it("the fixtures come from the reference and cover every kind, renumbering and both crash paths", () => {
    assert.deepStrictEqual(
      new Set(fixtures.map((fixture) => fixture.type)),
      new Set(["summary", "caption", "reasoning", "conclusion", "all", "sentence"]),
    )
    assert.strictEqual(fixtures.filter((fixture) => fixture.crash !== undefined).length, 2)
  })

  for (const fixture of fixtures) {
    it.effect(fixture.name, () =>
      Effect.gen(function* () {
        const { sent, match } = yield* inReferenceOrder(fixture)
        assert.strictEqual(sent.length, fixture.sent.length, "as many calls as the reference made")
        for (const [i, expected] of fixture.sent.entries()) {
          const parts = partsOf(sent[i]!.request)
          assert.strictEqual(parts.find((part) => part.type === "text")?.text, expected.text, `prompt ${i + 1}`)
          assert.strictEqual(
            parts.some((part) => part.type === "image_url"),
            expected.image,
            `image in prompt ${i + 1}`,
          )
        }
        const winner = match?.winner
        if (fixture.crash === undefined) {
          assert.strictEqual(winner, fixture.winner)
        } else {
          // The deviation where the reference crashes: the readable reasoning (checked correct) wins, else the second.
          const readable = fixture.texts.findIndex((text) => text.includes("</REASONING>"))
          assert.strictEqual(winner, readable === -1 ? 1 : readable)
          assert.strictEqual(match?.decidedBy, "UNREADABLE")
        }
      }),
    )
  }
})
