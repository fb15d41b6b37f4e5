import { assert, describe, it } from "@effect/vitest"
import { periodTokenIds } from "@stagebeam/cot"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  decodeSearchRequest,
  PRESETS,
  resolveSelection,
  runSearch,
  type SearchEvent,
  SearchEvents,
  type SearchRequestInput,
} from "../src/index.ts"
import { type FakeGeneratorOptions, type FakeJudgeOptions, makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

const IMAGE = "data:image/png;base64,iVBORw0KGgo="

const setup = (generator: FakeGeneratorOptions = {}, judge: FakeJudgeOptions = {}) => {
  const gen = makeFakeGenerator(generator)
  const jud = makeFakeJudge(judge)
  return { gen, jud, layer: Layer.merge(gen.layer, jud.layer) }
}

/** Runs a search to completion under the TestClock (fakes sleep their latencies on it). */
const search = (input: SearchRequestInput, services: ReturnType<typeof setup>) =>
  Effect.gen(function* () {
    const request = yield* decodeSearchRequest(input)
    const fiber = yield* Effect.forkChild(runSearch(request).pipe(Effect.provide(services.layer)))
    yield* TestClock.adjust(10_000_000)
    return yield* Fiber.join(fiber)
  })

const ofTag = <T extends SearchEvent["_tag"]>(trace: ReadonlyArray<SearchEvent>, tag: T) =>
  trace.filter((event): event is Extract<SearchEvent, { _tag: T }> => event._tag === tag)

describe("usage", () => {
  it.effect("marks the counts as estimates, in the usage and on each candidate, when a server reported none", () =>
    Effect.gen(function* () {
      const estimated = yield* search({ question: "q", imageUrl: IMAGE, seed: 1 }, setup({ tokensEstimated: true }))
      assert.isTrue(estimated.usage.tokensEstimated)
      const candidates = ofTag(estimated.trace, "CandidateGenerated")
      assert.isAbove(candidates.length, 0)
      for (const candidate of candidates) assert.isTrue(candidate.tokensEstimated)
      const reported = yield* search({ question: "q", imageUrl: IMAGE, seed: 1 }, setup())
      assert.isFalse(reported.usage.tokensEstimated)
      for (const candidate of ofTag(reported.trace, "CandidateGenerated")) assert.isUndefined(candidate.tokensEstimated)
    }),
  )
})

describe("STAGE_BEAM", () => {
  it.effect("N=4, KNOCKOUT: one generate call per stage, 3 judge calls per stage in 2 parallel rounds", () =>
    Effect.gen(function* () {
      const services = setup({ latencyMs: 300 }, { latencyMs: 100 })
      const result = yield* search(
        // The plain schedule (speculation overlaps the stages: see Speculation.test.ts).
        { question: "How many apples?", imageUrl: IMAGE, candidates: 4, seed: 7, speculation: "OFF" },
        services,
      )
      const { log } = services.gen
      assert.strictEqual(log.length, 4)
      assert.deepStrictEqual(
        log.map((call) => [call.request.n, call.request.stop]),
        [
          [4, ["</SUMMARY>"]],
          [4, ["</CAPTION>"]],
          [4, ["</REASONING>"]],
          [4, ["</CONCLUSION>"]],
        ],
      )
      // Each call continues exactly the answer chosen so far, after the separator the model writes in its closing
      // tag's last token (continuationPrefix).
      const chosen = ofTag(result.trace, "StepChosen").map((event) => event.text)
      for (const [i, call] of log.entries())
        assert.strictEqual(call.request.prefix, i === 0 ? "" : `${chosen.slice(0, i).join("\n\n")}\n\n`)
      assert.strictEqual(result.text, chosen.join("\n\n"))
      assert.deepStrictEqual(
        result.stages.map((s) => s.stage),
        ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
      )
      assert.match(result.conclusion, /^[ABCD]( \(\d+\))?$/)
      assert.strictEqual(services.jud.matches.length, 12)
      assert.deepStrictEqual(result.usage, {
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
        generationCalls: 4,
        judgeCalls: 12,
        correctnessChecks: 0,
        scoringCalls: 0,
        tokensEstimated: false,
      })
      // The two first-round matches of each stage start together and overlap; the final starts when they end.
      const matches = ofTag(result.trace, "MatchJudged")
      for (let step = 0; step < 4; step++) {
        const round0 = matches.filter((m) => m.step === step && m.round === 0)
        const round1 = matches.filter((m) => m.step === step && m.round === 1)
        assert.strictEqual(round0.length, 2)
        assert.strictEqual(round1.length, 1)
        assert.strictEqual(round0[0]!.startedAtMs, round0[1]!.startedAtMs)
        assert.isBelow(round0[1]!.startedAtMs, round0[0]!.endedAtMs)
        assert.strictEqual(round1[0]!.startedAtMs, round0[0]!.endedAtMs)
      }
      // 4 × (300 ms generation + 2 rounds × 100 ms): the critical path.
      assert.strictEqual(ofTag(result.trace, "SearchFinished")[0]!.atMs, 4 * (300 + 2 * 100))
      // The judge sees the stage's inner text, with the reference's hints.
      const judged = services.jud.matches.map((m) => m.match)
      assert.isTrue(judged.every((m) => !m.first?.includes("<") && m.imageUrl === IMAGE))
      assert.isUndefined(judged.find((m) => m.kind === "CAPTION")?.hint)
      assert.strictEqual(judged.find((m) => m.kind === "REASONING")?.hint, result.stages[1]!.text)
      assert.strictEqual(
        judged.find((m) => m.kind === "CONCLUSION")?.hint,
        `${result.stages[1]!.text}\n\n${result.stages[2]!.text}`,
      )
    }),
  )

  it.effect("SEQUENTIAL plays the N−1 matches one after the other", () =>
    Effect.gen(function* () {
      const services = setup({ latencyMs: 300 }, { latencyMs: 100 })
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, tournament: "SEQUENTIAL", seed: 1, speculation: "OFF" },
        services,
      )
      const matches = ofTag(result.trace, "MatchJudged")
      assert.strictEqual(matches.length, 12)
      assert.deepStrictEqual(
        matches.filter((m) => m.step === 0).map((m) => m.round),
        [0, 1, 2],
      )
      assert.strictEqual(ofTag(result.trace, "SearchFinished")[0]!.atMs, 4 * (300 + 3 * 100))
    }),
  )

  it.effect("gives equal traces for equal seeds, and different candidates for different seeds", () =>
    Effect.gen(function* () {
      const run = (seed: number) =>
        search({ question: "Q", imageUrl: IMAGE, seed }, setup({ latencyMs: 10, variants: 5 }, { latencyMs: 5 }))
      const first = yield* run(42)
      const again = yield* run(42)
      const other = yield* run(43)
      assert.deepStrictEqual(first, again)
      const texts = (r: typeof first) => ofTag(r.trace, "CandidateGenerated").map((c) => c.text)
      assert.notDeepEqual(texts(first), texts(other))
    }),
  )

  it.effect("duplicates MERGE: identical candidates merged, no judge call between equal texts", () =>
    Effect.gen(function* () {
      const services = setup({ variants: 1 })
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, candidates: 6, seed: 3, duplicates: "MERGE" },
        services,
      )
      assert.strictEqual(services.jud.matches.length, 0)
      assert.isTrue(ofTag(result.trace, "StepChosen").every((event) => event.by === "ONLY_CANDIDATE"))
      const merged = ofTag(result.trace, "CandidateGenerated").filter((c) => c.mergedInto !== undefined)
      assert.strictEqual(merged.length, 4 * 5)
    }),
  )

  it.effect("duplicates WEIGHT (default): every copy plays, a match of two equal texts is a coin, not a call", () =>
    Effect.gen(function* () {
      const services = setup({ variants: 2 })
      const result = yield* search({ question: "Q", imageUrl: IMAGE, candidates: 8, seed: 3 }, services)
      assert.isFalse(ofTag(result.trace, "CandidateGenerated").some((c) => c.mergedInto !== undefined))
      const matches = ofTag(result.trace, "MatchJudged")
      // Two wordings among 8 candidates per stage: every stage has its N − 1 matches.
      assert.strictEqual(matches.length, 4 * 7)
      const identical = matches.filter((m) => m.decidedBy === "IDENTICAL")
      assert.isAbove(identical.length, 0)
      assert.isTrue(identical.every((m) => m.firstText === m.secondText && m.server === ""))
      assert.isTrue(matches.filter((m) => m.decidedBy === "JUDGE").every((m) => m.firstText !== m.secondText))
      assert.strictEqual(services.jud.matches.length, matches.length - identical.length)
      assert.strictEqual(result.usage.judgeCalls, matches.length - identical.length)
    }),
  )

  it.effect("never judges invalid candidates (cut off by length)", () =>
    Effect.gen(function* () {
      const services = setup({ broken: (_, index) => index % 2 === 1 })
      const result = yield* search({ question: "Q", imageUrl: IMAGE, candidates: 4, seed: 5 }, services)
      const invalid = ofTag(result.trace, "CandidateGenerated").filter((c) => !c.valid)
      assert.strictEqual(invalid.length, 8)
      assert.isTrue(invalid.every((c) => c.problem === "stopped on length before its closing tag"))
      const matches = ofTag(result.trace, "MatchJudged")
      assert.strictEqual(matches.length, 4)
      assert.isTrue(matches.every((m) => m.first % 2 === 0 && m.second % 2 === 0))
    }),
  )

  it.effect("resamples once when every candidate is invalid", () =>
    Effect.gen(function* () {
      const services = setup({ broken: (request) => request.stop[0] === "</CAPTION>" && services.gen.log.length < 2 })
      // The plain schedule: the calls are counted (speculation would add the finalists' next stages).
      const result = yield* search({ question: "Q", imageUrl: IMAGE, seed: 5, speculation: "OFF" }, services)
      assert.strictEqual(services.gen.log.length, 5)
      assert.deepStrictEqual(
        ofTag(result.trace, "CandidateGenerated")
          .filter((c) => c.step === 1)
          .map((c) => c.attempt),
        [0, 0, 0, 0, 1, 1, 1, 1],
      )
      assert.notStrictEqual(services.gen.log[1]!.request.seed, services.gen.log[2]!.request.seed)
    }),
  )

  it.effect("fails with NoValidCandidate naming the stage when the resample is invalid too", () =>
    Effect.gen(function* () {
      const services = setup({ broken: (request) => request.stop[0] === "</REASONING>" })
      const error = yield* Effect.flip(search({ question: "Q", imageUrl: IMAGE, seed: 5 }, services))
      assert.strictEqual(error._tag, "NoValidCandidate")
      if (error._tag === "NoValidCandidate") {
        assert.strictEqual(error.kind, "REASONING")
        assert.strictEqual(error.attempts, 2)
        assert.include(error.message, "REASONING")
      }
    }),
  )

  it.effect("reasoning pre-check: a correct reasoning beats an incorrect one without a judge call", () =>
    Effect.gen(function* () {
      const incorrect = (text: string) => !text.includes("option A")
      const services = setup({ variants: 4 }, { incorrect })
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, candidates: 8, seed: 11, reasoningCheck: true },
        services,
      )
      const reasoning = ofTag(result.trace, "CandidateGenerated").filter((c) => c.kind === "REASONING" && c.valid)
      const distinct = new Set(reasoning.map((c) => c.judgedText)).size
      assert.strictEqual(ofTag(result.trace, "ReasoningChecked").length, distinct)
      assert.strictEqual(result.usage.correctnessChecks, distinct)
      // With this seed the reasoning candidates include correct and incorrect ones, so the check decides matches.
      const byCheck = ofTag(result.trace, "MatchJudged").filter((m) => m.decidedBy === "CORRECTNESS")
      assert.isAbove(byCheck.length, 0)
      for (const match of byCheck) {
        const winnerText = match.winner === match.first ? match.firstText : match.secondText
        assert.isFalse(incorrect(winnerText))
      }
      assert.isTrue(reasoning.some((c) => !incorrect(c.judgedText)))
      assert.include(result.stages[2]!.text, "option A")
    }),
  )
})

describe("baselines", () => {
  it.effect("BEST_OF_N: one call for N whole answers, N−1 'ALL' matches on the whole text", () =>
    Effect.gen(function* () {
      const services = setup()
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, strategy: "BEST_OF_N", candidates: 5, seed: 3 },
        services,
      )
      assert.strictEqual(services.gen.log.length, 1)
      assert.deepStrictEqual(services.gen.log[0]!.request.stop, ["</CONCLUSION>"])
      assert.strictEqual(services.gen.log[0]!.request.n, 5)
      assert.strictEqual(services.jud.matches.length, 4)
      assert.isTrue(services.jud.matches.every((m) => m.match.kind === "ALL" && m.match.first?.includes("<SUMMARY>")))
      assert.strictEqual(result.stages.length, 4)
    }),
  )

  it.effect("GREEDY: one sample, no judge", () =>
    Effect.gen(function* () {
      const services = setup()
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, strategy: "GREEDY", candidates: 8, seed: 3 },
        services,
      )
      assert.strictEqual(services.gen.log.length, 1)
      assert.strictEqual(services.gen.log[0]!.request.n, 1)
      assert.strictEqual(services.jud.matches.length, 0)
      assert.match(result.conclusion, /^[ABCD]( \(\d+\))?$/)
    }),
  )

  it.effect("SENTENCE_BEAM: N per sentence, the answer so far as hint, until </CONCLUSION>", () =>
    Effect.gen(function* () {
      const services = setup({ sentences: 2 })
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, strategy: "SENTENCE_BEAM", candidates: 2, seed: 2 },
        services,
      )
      assert.strictEqual(services.gen.log.length, 3)
      // The reference's stop: after a token that ends in a period (stop_token_ids), not the "." stop string.
      assert.isTrue(
        services.gen.log.every(
          (call) => !call.request.stop.includes(".") && call.request.stopTokenIds === periodTokenIds(),
        ),
      )
      assert.strictEqual(services.jud.matches.length, 3)
      assert.isUndefined(services.jud.matches[0]!.match.hint)
      assert.strictEqual(services.jud.matches[1]!.match.hint, services.gen.log[1]!.request.prefix)
      assert.isTrue(services.jud.matches.every((m) => m.match.kind === "SENTENCE"))
      assert.match(result.conclusion, /^[ABCD]( \(\d+\))?$/)
    }),
  )

  it.effect("SENTENCE_BEAM stops at maxSentences and completes the answer unjudged", () =>
    Effect.gen(function* () {
      const services = setup({ sentences: 10 })
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, strategy: "SENTENCE_BEAM", candidates: 2, maxSentences: 3 },
        services,
      )
      assert.strictEqual(result.cutShort?.reason, "SENTENCE_LIMIT")
      assert.strictEqual(services.gen.log.length, 4)
      assert.strictEqual(ofTag(result.trace, "StepChosen").at(-1)?.by, "UNJUDGED")
    }),
  )
})

describe("text-only questions", () => {
  it.effect("STAGE_BEAM writes a fixed caption instead of sampling one", () =>
    Effect.gen(function* () {
      const services = setup()
      const result = yield* search({ question: "What is 2+2?", seed: 9, speculation: "OFF" }, services)
      assert.strictEqual(services.gen.log.length, 3)
      assert.isTrue(services.gen.log.every((call) => call.request.imageUrl === undefined))
      assert.include(result.stages[1]!.text, "There is no image")
      assert.strictEqual(ofTag(result.trace, "StepChosen")[1]!.by, "FIXED")
      assert.isFalse(services.jud.matches.some((m) => m.match.kind === "CAPTION"))
    }),
  )
})

describe("budgets and deadlines", () => {
  it.effect("a deadline that cannot fit another round finishes with the best so far and says so", () =>
    Effect.gen(function* () {
      const services = setup({ latencyMs: 300 }, { latencyMs: 100 })
      // Each stage takes 300 + 2 × 100 ms. At 1400 ms the third stage's second round (100 ms) plus the completion
      // kept in reserve (300 ms) no longer fit before 1750 ms; the completion then ends at 1700 ms.
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, seed: 4, deadlineMs: 1_750, speculation: "OFF" },
        services,
      )
      assert.strictEqual(result.cutShort?.reason, "DEADLINE")
      const chosen = ofTag(result.trace, "StepChosen")
      assert.deepStrictEqual(
        chosen.map((c) => c.by),
        ["TOURNAMENT", "TOURNAMENT", "CUT_SHORT", "UNJUDGED"],
      )
      assert.strictEqual(services.jud.matches.length, 3 + 3 + 2)
      assert.strictEqual(result.stages.length, 4)
      assert.match(result.conclusion, /^[ABCD]( \(\d+\))?$/)
    }),
  )

  it.effect("a call that outlasts the deadline is cut off there, and the answer so far is completed in time", () =>
    Effect.gen(function* () {
      // The first stage is fast, so the estimates are short; the second one hangs past the deadline.
      const services = setup({ latencyMs: 100, latencyByStop: { "</CAPTION>": 10_000 } }, { latencyMs: 10 })
      const result = yield* search({ question: "Q", imageUrl: IMAGE, seed: 4, deadlineMs: 1_000 }, services)
      assert.strictEqual(result.cutShort?.reason, "DEADLINE")
      assert.include(result.cutShort?.detail ?? "", "CAPTION generation call did not finish")
      const chosen = ofTag(result.trace, "StepChosen")
      assert.deepStrictEqual(
        chosen.map((c) => c.by),
        ["TOURNAMENT", "UNJUDGED"],
      )
      const finished = ofTag(result.trace, "SearchFinished")[0]!
      assert.isAtMost(finished.atMs, 1_000)
    }),
  )

  it.effect("a token budget stops the search and the answer is completed within it", () =>
    Effect.gen(function* () {
      const services = setup()
      const result = yield* search({ question: "Q", imageUrl: IMAGE, seed: 4, tokenBudget: 150 }, services)
      assert.strictEqual(result.cutShort?.reason, "BUDGET")
      assert.strictEqual(result.stages.length, 4)
      assert.isAtMost(services.gen.log.at(-1)!.request.sampling.maxTokens, 150)
    }),
  )

  it.effect("fails with BudgetExhausted when nothing is left to complete the answer", () =>
    Effect.gen(function* () {
      const services = setup({ latencyMs: 500 })
      const error = yield* Effect.flip(search({ question: "Q", imageUrl: IMAGE, deadlineMs: 400 }, services))
      assert.strictEqual(error._tag, "BudgetExhausted")
      if (error._tag === "BudgetExhausted") assert.strictEqual(error.reason, "DEADLINE")
    }),
  )
})

describe("events as they happen", () => {
  it.effect("SearchEvents receives every event of the trace, in order, ending with SearchFinished", () =>
    Effect.gen(function* () {
      const published: Array<SearchEvent> = []
      const request = yield* decodeSearchRequest({ question: "Q", imageUrl: IMAGE, seed: 21 })
      const fiber = yield* Effect.forkChild(
        runSearch(request).pipe(
          Effect.provide(setup({ latencyMs: 30 }, { latencyMs: 10 }).layer),
          Effect.provideService(SearchEvents, { publish: (event) => Effect.sync(() => void published.push(event)) }),
        ),
      )
      yield* TestClock.adjust(1_000_000)
      const result = yield* Fiber.join(fiber)
      assert.isAbove(published.length, 8)
      assert.deepStrictEqual(published, result.trace)
      assert.strictEqual(published.at(-1)?._tag, "SearchFinished")
    }),
  )
})

describe("selection presets", () => {
  it("REFERENCE: the reference's rules, no deviation; each override is reported as a deviation", () => {
    const reference = resolveSelection({ preset: "REFERENCE" })
    assert.deepStrictEqual(reference.rules, PRESETS.REFERENCE)
    assert.deepStrictEqual(reference.deviations, [])
    const knockout = resolveSelection({ preset: "REFERENCE", tournament: "KNOCKOUT", wording: "CORRECTED" })
    assert.deepStrictEqual(knockout.deviations, ["tournament", "wording"])
  })

  it("DEFAULT: every improvement is a deviation except duplicates WEIGHT; each can be turned off alone", () => {
    const defaults = resolveSelection({ preset: "DEFAULT" })
    assert.deepStrictEqual(defaults.deviations, [
      "tournament",
      "reasoningCheck",
      "unclearVerdict",
      "malformed",
      "wording",
      "matchOrder",
      "verdict",
    ])
    assert.deepStrictEqual(
      resolveSelection({ preset: "DEFAULT", unclearVerdict: "SECOND", matchOrder: "AS_PAIRED" }).deviations,
      ["tournament", "reasoningCheck", "malformed", "wording", "verdict"],
    )
    assert.deepStrictEqual(
      resolveSelection({ preset: "REFERENCE", votes: 3, bothOrders: true, verdict: "CHOICE" }).deviations,
      ["verdict", "votes", "bothOrders"],
    )
    assert.include(resolveSelection({ preset: "DEFAULT", duplicates: "MERGE" }).deviations, "duplicates")
  })

  it("reasoningCheck true turns the check on with the preset's rule (ONCE for DEFAULT), false turns it off", () => {
    assert.strictEqual(resolveSelection({ preset: "DEFAULT", reasoningCheck: true }).rules.reasoningCheck, "ONCE")
    assert.strictEqual(
      resolveSelection({ preset: "REFERENCE", reasoningCheck: true }).rules.reasoningCheck,
      "PER_MATCH",
    )
    assert.strictEqual(resolveSelection({ preset: "REFERENCE", reasoningCheck: false }).rules.reasoningCheck, "OFF")
    assert.strictEqual(
      resolveSelection({ preset: "DEFAULT", reasoningCheck: "PER_MATCH" }).rules.reasoningCheck,
      "PER_MATCH",
    )
  })

  it.effect("the trace opens with the selection in force, and the result carries it", () =>
    Effect.gen(function* () {
      const services = setup()
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, seed: 2, preset: "REFERENCE", tournament: "KNOCKOUT" },
        services,
      )
      const started = result.trace[0]
      assert.strictEqual(started?._tag, "SearchStarted")
      if (started?._tag === "SearchStarted") {
        assert.strictEqual(started.selection.preset, "REFERENCE")
        assert.deepStrictEqual(started.selection.deviations, ["tournament"])
      }
      assert.deepStrictEqual(result.selection, started?._tag === "SearchStarted" ? started.selection : undefined)
      assert.strictEqual(result.tournament, "KNOCKOUT")
      // The REFERENCE preset's prompts and rules reach the judge.
      assert.isTrue(
        services.jud.matches.every((m) => m.match.wording === "REFERENCE" && m.match.unclearVerdict === "SECOND"),
      )
      assert.isTrue(services.jud.checks.every((check) => check.wording === "REFERENCE"))
      assert.isAbove(services.jud.checks.length, 0)
    }),
  )

  it.effect("malformed KEEP: a candidate cut off by length still plays, judged with nothing shown for it", () =>
    Effect.gen(function* () {
      const services = setup({ broken: (request, index) => request.stop[0] === "</CAPTION>" && index === 0 })
      const result = yield* search(
        { question: "Q", imageUrl: IMAGE, seed: 4, candidates: 3, malformed: "KEEP", tournament: "SEQUENTIAL" },
        services,
      )
      const captionMatches = ofTag(result.trace, "MatchJudged").filter((m) => m.kind === "CAPTION")
      assert.strictEqual(captionMatches.length, 2)
      const withBroken = captionMatches.find((m) => m.first === 0 || m.second === 0)
      assert.isDefined(withBroken)
      assert.strictEqual(withBroken?.first === 0 ? withBroken.firstText : withBroken?.secondText, "")
      const judged = services.jud.matches.filter((m) => m.match.kind === "CAPTION").map((m) => m.match)
      assert.isTrue(judged.some((m) => m.first === undefined || m.second === undefined))
    }),
  )
})

describe("request validation", () => {
  it.effect("fills defaults in one decode", () =>
    Effect.gen(function* () {
      const request = yield* decodeSearchRequest({ question: "Q" })
      assert.deepStrictEqual(request, {
        question: "Q",
        preset: "DEFAULT",
        strategy: "STAGE_BEAM",
        candidates: 4,
        sampling: { temperature: 0.6, topP: 0.9, maxTokens: 2048 },
        maxSentences: 64,
        swires: { keep: 2, reasoningsPerCaption: 2, conclusions: 3, maxRetraces: 3, cutoff: -0.77 + 0.2533 * 2.08 },
      })
    }),
  )

  it.effect("names the offending field", () =>
    Effect.gen(function* () {
      const nested = yield* Effect.flip(decodeSearchRequest({ question: "Q", sampling: { topP: 2 } }))
      assert.strictEqual(nested.field, "sampling.topP")
      const top = yield* Effect.flip(decodeSearchRequest({ question: "Q", candidates: 0 }))
      assert.strictEqual(top.field, "candidates")
      const strategy = yield* Effect.flip(decodeSearchRequest({ question: "Q", strategy: "MCTS" }))
      assert.strictEqual(strategy.field, "strategy")
      const image = yield* Effect.flip(decodeSearchRequest({ question: "Q", imageUrl: "file:///etc/passwd" }))
      assert.strictEqual(image.field, "imageUrl")
    }),
  )
})
