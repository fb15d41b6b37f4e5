import { referenceView, type StepKind } from "@stagebeam/cot"
import { Effect, type Exit, Queue } from "effect"
import { type Candidate, classify, readableText } from "./Candidate.ts"
import { type DeadlineReached, NoValidCandidate, type SearchError } from "./Errors.ts"
import type { MatchJudged } from "./Events.ts"
import { judgeMatch, type MatchDecision } from "./Match.ts"
import type { Prefetched, Run } from "./Run.ts"
import { deriveSeed, makeRng } from "./Seeds.ts"
import type { GenerationRequest, SampleListener } from "./Services.ts"
import { discard, makeSpeculator, type NextStep, SPECULATION_WIDTH_DEFAULT, type Speculator } from "./Speculation.ts"
import { knockoutAsTheyCome, stragglersOf } from "./Stragglers.ts"
import { type MatchRecord, type MatchSlot, mergeDuplicates, runTournament } from "./Tournament.ts"

export interface StepSpec {
  readonly step: number
  readonly kind: StepKind
  /** The chosen answer so far, continued by every candidate. */
  readonly prefix: string
  readonly n: number
  readonly stop: ReadonlyArray<string>
  /** Context for the judge (see judgePrompt), for the CORRECTED wording; REFERENCE takes the candidates' own. */
  readonly hint: string | undefined
}

export interface StepChoice {
  readonly candidate: Candidate
  readonly by: "TOURNAMENT" | "ONLY_CANDIDATE" | "CUT_SHORT" | "SCORE"
  /** The next step's generation call, started for this candidate while its final ran (speculation). */
  readonly prefetched?: Prefetched | undefined
}

/** How a step may speculate: the call started for it by the step before, and how to start the next one's. */
export interface StepSpeculation {
  readonly prefetched?: Prefetched | undefined
  /** The step that follows a candidate if it wins (undefined: none to start ahead). */
  readonly next?: NextStep<StepSpec> | undefined
}

/** A candidate as it enters the tournament. */
export interface Entrant {
  readonly candidate: Candidate
  /** What the judge is shown of it; undefined when it has nothing the judge can read (a kept malformed candidate). */
  readonly judged: string | undefined
  /** The hint it sets: the step's for CORRECTED; for REFERENCE its own, and a match keeps the second's when set. */
  readonly hint: string | undefined
  /** Entrants with equal keys look the same to the judge and the pre-check; undefined: like no other. */
  readonly key: string | undefined
}

type DecidedBy = (typeof MatchJudged.Type)["decidedBy"]

interface MatchOutcome {
  readonly winner: 0 | 1
  readonly decision: MatchDecision | undefined
  readonly decidedBy: DecidedBy
  /** Why a match was decided without a verdict. */
  readonly reason: string
  readonly startedAtMs: number
  readonly endedAtMs: number
}

const MAX_ATTEMPTS = 2

/** How the judge sees one candidate under the run's wording (see referenceView for REFERENCE). */
export const entrantOf = (run: Run, spec: StepSpec, candidate: Candidate): Entrant => {
  if (run.selection.rules.wording === "REFERENCE") {
    const view = referenceView(spec.kind, spec.prefix + candidate.text)
    const key = view.judged === undefined ? undefined : JSON.stringify([view.judged, view.hint ?? null])
    return { candidate, judged: view.judged, hint: view.hint, key }
  }
  const judged = candidate.valid ? candidate.judgedText : readableText(spec.kind, candidate.text)
  return { candidate, judged, hint: spec.hint, key: judged }
}

// Unreadable entrants are never merged: each gets a key of its own.
export const mergeKey = (entrant: Entrant): string => entrant.key ?? `\u0000unreadable ${entrant.candidate.index}`

/**
 * Samples N candidates (one call). DROP: the invalid ones are dropped and the call made once more when none is
 * valid. KEEP: every candidate enters, as in the reference, which never resamples.
 */
/** The generation call of a step's attempt: a speculative one is the same call, only marked (for its priority). */
export const generationOf = (run: Run, spec: StepSpec, attempt: number, speculative = false): GenerationRequest => ({
  question: run.request.question,
  imageUrl: run.request.imageUrl,
  prefix: spec.prefix,
  n: spec.n,
  stop: spec.stop,
  // Not capped by the token budget: a stage cut off by length is invalid, so a starved step would fail instead
  // of cutting the search short. The budget is checked before each step, from the costliest call so far.
  sampling: run.request.sampling,
  seed: deriveSeed(run.seed, "generate", spec.step, attempt),
  ...(speculative && { speculative: true }),
})

const sameCall = (a: GenerationRequest, b: GenerationRequest) =>
  a.prefix === b.prefix && a.n === b.n && a.seed === b.seed && a.stop.join("\u0000") === b.stop.join("\u0000")

/**
 * Samples N candidates (one call). DROP: the invalid ones are dropped and the call made once more when none is
 * valid. KEEP: every candidate enters, as in the reference, which never resamples. A call `prefetched` for the first
 * attempt (speculation) is taken instead of making it again.
 */
export const sample = Effect.fnUntraced(function* (
  run: Run,
  spec: StepSpec,
  prefetched?: Prefetched,
  /** Hears each sample of the call as it finishes (stragglers), before the call returns. */
  onSample?: SampleListener,
) {
  const { malformed, duplicates } = run.selection.rules
  let problems: Array<string> = []
  let allCutByLength = false
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const generation = generationOf(run, spec, attempt)
    const ahead = attempt === 0 && prefetched !== undefined && sameCall(prefetched.generation, generation)
    if (attempt === 0 && prefetched !== undefined && !ahead) yield* discard(prefetched)
    if (ahead && onSample !== undefined) prefetched.listen(onSample)
    const { result, startedAtMs, endedAtMs } = ahead
      ? yield* run.adopt(prefetched)
      : yield* run.generate(spec.step, spec.kind, generation, false, onSample)
    const candidates = result.samples.map((generated, index) => classify(spec.kind, index, generated))
    const entrants = candidates
      .filter((candidate) => malformed === "KEEP" || candidate.valid)
      .map((candidate) => entrantOf(run, spec, candidate))
    const { mergedInto } = mergeDuplicates(entrants, mergeKey)
    for (const candidate of candidates) {
      const position = entrants.findIndex((entrant) => entrant.candidate === candidate)
      const entrant = entrants[position]
      const merged = duplicates === "MERGE" && position !== -1 ? entrants[mergedInto[position]!]!.candidate.index : -1
      yield* run.trace.emit({
        _tag: "CandidateGenerated",
        step: spec.step,
        kind: spec.kind,
        attempt,
        index: candidate.index,
        text: candidate.text,
        judgedText: entrant === undefined ? candidate.judgedText : (entrant.judged ?? ""),
        completionTokens: result.samples[candidate.index]?.completionTokens ?? 0,
        ...(result.tokensEstimated === true && { tokensEstimated: true }),
        finishReason: result.samples[candidate.index]?.finishReason ?? "stop",
        server: result.server,
        valid: candidate.valid,
        ...(candidate.problem === undefined ? {} : { problem: candidate.problem }),
        ...(merged !== -1 && merged !== candidate.index ? { mergedInto: merged } : {}),
        startedAtMs,
        endedAtMs,
      })
    }
    if (entrants.length > 0) return entrants
    problems = candidates.map((candidate) => `candidate ${candidate.index}: ${candidate.problem}`)
    allCutByLength = result.samples.every((generated) => generated.finishReason === "length")
  }
  return yield* new NoValidCandidate({
    step: spec.step,
    kind: spec.kind,
    attempts: MAX_ATTEMPTS,
    problems,
    allCutByLength,
    message: `no valid ${spec.kind} candidate at step ${spec.step} after ${MAX_ATTEMPTS} samplings of ${spec.n}: ${problems.join("; ")}`,
  })
})

/**
 * `sample`, with `onArrival` run in this fiber for each candidate that enters as soon as its sample is finished
 * (speculation starts its next step then, before any match).
 */
const sampleHearing = Effect.fnUntraced(function* (
  run: Run,
  spec: StepSpec,
  prefetched: Prefetched | undefined,
  onArrival: (candidate: Candidate) => Effect.Effect<void>,
) {
  type Heard =
    | { readonly _tag: "arrived"; readonly candidate: Candidate }
    | { readonly _tag: "sampled"; readonly exit: Exit.Exit<ReadonlyArray<Entrant>, SearchError | DeadlineReached> }
  const heard = yield* Queue.unbounded<Heard>()
  const enters = (candidate: Candidate) => run.selection.rules.malformed === "KEEP" || candidate.valid
  // Sample indices heard (a failed-over request may deliver one again).
  const indices = new Set<number>()
  yield* Effect.forkChild(
    sample(run, spec, prefetched, (index, generated) => {
      const candidate = classify(spec.kind, index, generated)
      const last = !indices.has(index) && indices.add(index).size === spec.n
      // The call's last sample is left to the tournament, which speculates once its first judge calls are asked.
      if (!last && enters(candidate)) Queue.offerUnsafe(heard, { _tag: "arrived", candidate })
    }).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Queue.offer(heard, { _tag: "sampled", exit })),
    ),
  )
  while (true) {
    const event = yield* Queue.take(heard)
    if (event._tag === "sampled") return yield* event.exit
    yield* onArrival(event.candidate)
  }
})

/** One pre-check call on an entrant's text, traced. */
const check = Effect.fnUntraced(function* (
  run: Run,
  spec: StepSpec,
  entrant: Entrant,
  hint: string | undefined,
  seed: number,
) {
  const startedAtMs = yield* run.trace.elapsed
  const verdict = yield* run.checkReasoning(spec.step, {
    question: run.request.question,
    hint,
    reasoning: entrant.judged ?? "",
    seed,
    wording: run.selection.rules.wording,
  })
  yield* run.trace.emit({
    _tag: "ReasoningChecked",
    step: spec.step,
    index: entrant.candidate.index,
    correct: verdict.correct,
    raw: verdict.raw,
    server: verdict.server,
    startedAtMs,
    endedAtMs: yield* run.trace.elapsed,
  })
  return verdict.correct
})

/**
 * The pre-check ONCE: each distinct readable text checked once, all in parallel, before the tournament. Returns
 * correctness by key; an entrant without a readable reasoning counts as incorrect, unchecked.
 */
const checkOnce = Effect.fnUntraced(function* (run: Run, spec: StepSpec, entrants: ReadonlyArray<Entrant>) {
  const firstOfKey = new Map<string, Entrant>()
  for (const entrant of entrants) {
    if (entrant.key !== undefined && !firstOfKey.has(entrant.key)) firstOfKey.set(entrant.key, entrant)
  }
  const checked = yield* Effect.all(
    [...firstOfKey].map(([key, entrant]) =>
      Effect.map(
        check(run, spec, entrant, entrant.hint, deriveSeed(run.seed, "check", spec.step, entrant.candidate.index)),
        (correct) => [key, correct] as const,
      ),
    ),
    { concurrency: "unbounded" },
  )
  const correct = new Map(checked)
  return (entrant: Entrant): boolean => (entrant.key === undefined ? false : (correct.get(entrant.key) ?? false))
})

/** Where `effect` fails, the step's speculated calls are all interrupted: none will be adopted. */
const settledOnError =
  (speculator: Speculator | undefined) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    speculator === undefined ? effect : Effect.onError(effect, () => Effect.asVoid(speculator.settle(undefined)))

/**
 * Whether `runStep` will listen to the samples of the step's call as they finish (stragglers, or speculation on each
 * arrival), as it decides below; yes where that depends on a step after it, which is not known here.
 */
const hearsSamples = (run: Run, spec: StepSpec): boolean =>
  (stragglersOf(run.request) &&
    !run.pointwise &&
    !(spec.kind === "REASONING" && run.selection.rules.reasoningCheck === "ONCE")) ||
  (run.request.speculation !== "OFF" &&
    (run.request.speculationWidth ?? SPECULATION_WIDTH_DEFAULT) >= spec.n &&
    !run.pointwise)

/** The step's speculator where the strategy has a next step to start ahead. */
const speculatorFor = (run: Run, next: NextStep<StepSpec> | undefined): Speculator | undefined =>
  next === undefined
    ? undefined
    : makeSpeculator(
        run,
        (candidate) => next(candidate)?.n,
        (candidate) => {
          const nextSpec = next(candidate)
          return nextSpec === undefined
            ? Effect.succeed(undefined)
            : run.prefetch(
                nextSpec.step,
                nextSpec.kind,
                generationOf(run, nextSpec, 0, true),
                hearsSamples(run, nextSpec),
              )
        },
      )

/**
 * One search step: sample N candidates, and pick one by tournament under the run's selection rules:
 * - duplicates WEIGHT: identical texts stay separate entrants, and a match between two of them is a seeded coin
 *   (no call); MERGE: one entrant per text.
 * - reasoningCheck ONCE: a correct reasoning beats an incorrect one without a judge call, the judge decides when both
 *   agree (so a step whose candidates all fail the check still picks the judge's favourite). PER_MATCH, the
 *   reference's rule, in every match: check the first, "incorrect" → the second wins unchecked; else check the
 *   second, "incorrect" → the first wins; else the judge decides. Where the reference would crash (a response it
 *   cannot read, malformed KEEP), the match goes to the readable one after its check, or to the second when neither
 *   is readable (decidedBy UNREADABLE).
 * - each match is put to the judge under the match rules (judgeMatch: order, votes, both orders); its verdict 0 is the
 *   first entrant, 1 the second.
 * With a pointwise judge there is no tournament (nor pre-check): every distinct candidate is scored in one scoring
 * round and the highest kept (pickByScore).
 */
export const runStep = Effect.fn("search.step")(function* (
  run: Run,
  spec: StepSpec,
  speculation: StepSpeculation = {},
) {
  yield* Effect.annotateCurrentSpan({ step: spec.step, kind: spec.kind, candidates: spec.n })
  yield* run.trace.emitNow({ _tag: "StepStarted", step: spec.step, kind: spec.kind, candidates: spec.n })
  const rules = run.selection.rules
  // Stragglers: the tournament starts on the first samples while the others still decode (not with a pointwise
  // judge, nor with a pre-check that needs every reasoning first).
  const asTheyCome =
    stragglersOf(run.request) && !run.pointwise && !(spec.kind === "REASONING" && rules.reasoningCheck === "ONCE")
  const speculator = speculatorFor(run, speculation.next)
  const width = run.request.speculationWidth ?? SPECULATION_WIDTH_DEFAULT
  // A judge call's sequences: what a match about to start needs free.
  const callsPerMatch = rules.votes * (rules.bothOrders ? 2 : 1)
  const entrants = asTheyCome
    ? []
    : speculator !== undefined && run.request.speculation !== "OFF" && width >= spec.n && !run.pointwise
      ? yield* sampleHearing(run, spec, speculation.prefetched, (candidate) => speculator.start([candidate], 0)).pipe(
          settledOnError(speculator),
        )
      : yield* sample(run, spec, speculation.prefetched)
  const choose = (candidate: Candidate, by: StepChoice["by"]) =>
    Effect.as(
      run.trace.emitNow({
        _tag: "StepChosen",
        step: spec.step,
        kind: spec.kind,
        index: candidate.index,
        text: candidate.text,
        by,
      }),
      { candidate, by } as StepChoice,
    )
  if (!asTheyCome && run.pointwise) {
    const picked = yield* pickByScore(run, spec, entrants)
    return yield* choose(picked.candidate, picked.by)
  }
  if (!asTheyCome && new Set(entrants.map(mergeKey)).size === 1) {
    // One text only. WEIGHT: any of the copies, each as likely (as the coins of a tournament would make them).
    const pick =
      rules.duplicates === "MERGE"
        ? 0
        : Math.floor(makeRng(deriveSeed(run.seed, "identical", spec.step))() * entrants.length)
    const chosen = entrants[pick]!.candidate
    // Speculation heard it arrive: the call started for its text is the next step's, as the plain search makes it.
    const prefetched = speculator === undefined ? undefined : yield* speculator.settle(chosen)
    return { ...(yield* choose(chosen, "ONLY_CANDIDATE")), prefetched } satisfies StepChoice
  }

  const correctOnce =
    spec.kind === "REASONING" && rules.reasoningCheck === "ONCE"
      ? yield* checkOnce(run, spec, entrants).pipe(settledOnError(speculator))
      : undefined
  const perMatch = spec.kind === "REASONING" && rules.reasoningCheck === "PER_MATCH"

  const compare = (first: Entrant, second: Entrant, slot: MatchSlot) =>
    Effect.gen(function* () {
      const startedAtMs = yield* run.trace.elapsed
      const settled = (winner: 0 | 1, decidedBy: DecidedBy, reason: string) =>
        Effect.map(
          run.trace.elapsed,
          (endedAtMs): MatchOutcome => ({ winner, decision: undefined, decidedBy, reason, startedAtMs, endedAtMs }),
        )
      if (rules.duplicates === "WEIGHT" && first.key !== undefined && first.key === second.key) {
        const coin = deriveSeed(run.seed, "identical", spec.step, slot.round, slot.index) % 2 === 0 ? 0 : 1
        return yield* settled(coin, "IDENTICAL", "identical texts: a seeded coin, no judge call")
      }
      // The reference's loop keeps the hint the second candidate sets, else the first's.
      const hint = rules.wording === "REFERENCE" ? (second.hint ?? first.hint) : spec.hint
      if (perMatch) {
        const readable = [first, second].filter((entrant) => entrant.judged !== undefined)
        const checkSeed = (position: number) =>
          deriveSeed(run.seed, "check", spec.step, slot.round, slot.index, position)
        const [shownFirst, shownSecond] = readable
        if (shownFirst === undefined)
          return yield* settled(1, "UNREADABLE", "neither reasoning is readable: the second")
        if (!(yield* check(run, spec, shownFirst, hint, checkSeed(0)))) {
          return yield* settled(1, "CORRECTNESS", "the first reasoning shown was checked incorrect: the second wins")
        }
        if (shownSecond === undefined) {
          return yield* settled(
            shownFirst === first ? 0 : 1,
            "UNREADABLE",
            "the only readable reasoning, checked correct",
          )
        }
        if (!(yield* check(run, spec, shownSecond, hint, checkSeed(1)))) {
          return yield* settled(0, "CORRECTNESS", "the second reasoning was checked incorrect: the first wins")
        }
      }
      if (correctOnce !== undefined && correctOnce(first) !== correctOnce(second)) {
        return yield* settled(
          correctOnce(first) ? 0 : 1,
          "CORRECTNESS",
          "decided by the reasoning correctness pre-check",
        )
      }
      const decision = yield* judgeMatch(
        {
          kind: spec.kind,
          question: run.request.question,
          imageUrl: run.request.imageUrl,
          hint,
          first: first.judged,
          second: second.judged,
          seed: deriveSeed(run.seed, "judge", spec.step, slot.round, slot.index),
          wording: rules.wording,
          unclearVerdict: rules.unclearVerdict,
          verdict: rules.verdict,
        },
        rules,
        (match) => run.compare(spec.step, match),
      )
      return {
        winner: decision.winner,
        decision,
        decidedBy: decision.decidedBy,
        reason: "",
        startedAtMs,
        endedAtMs: yield* run.trace.elapsed,
      } satisfies MatchOutcome
    })

  /** The MatchJudged event of a decided match (`among`: the entrants the record's indices point into). */
  const traceMatch = (among: ReadonlyArray<Entrant>, record: MatchRecord<MatchOutcome>) => {
    const { decision } = record.outcome
    // One verdict shown the other way round: the trace tells the order the judge saw.
    const flipped = decision?.orderFlipped === true
    const first = among[flipped ? record.second : record.first]!
    const second = among[flipped ? record.first : record.second]!
    const votes = decision === undefined ? undefined : flipped ? [decision.votes[1], decision.votes[0]] : decision.votes
    const mode = decision?.verdicts[0]?.mode
    return run.trace.emit({
      _tag: "MatchJudged",
      step: spec.step,
      kind: spec.kind,
      round: record.round,
      match: record.index,
      first: first.candidate.index,
      second: second.candidate.index,
      firstText: first.judged ?? "",
      secondText: second.judged ?? "",
      winner: among[record.winner]!.candidate.index,
      raw: decision?.raw ?? record.outcome.reason,
      explicit: decision?.explicit ?? true,
      server: decision?.server ?? "",
      decidedBy: record.outcome.decidedBy,
      ...(decision?.margin === undefined ? {} : { margin: decision.margin }),
      ...(votes === undefined ? {} : { votesFirst: votes[0], votesSecond: votes[1] }),
      ...(decision === undefined ? {} : { orderFlipped: flipped, reasked: decision.reasked, calls: decision.calls }),
      ...(mode === undefined ? {} : { verdictMode: mode }),
      startedAtMs: record.outcome.startedAtMs,
      endedAtMs: record.outcome.endedAtMs,
    })
  }

  if (asTheyCome) {
    const streamed = yield* knockoutAsTheyCome<Entrant, MatchOutcome, SearchError | DeadlineReached, never>({
      sample: (arrive) =>
        sample(run, spec, speculation.prefetched, (index, generated) => {
          const candidate = classify(spec.kind, index, generated)
          const enters = rules.malformed === "KEEP" || candidate.valid
          arrive(String(index), enters ? entrantOf(run, spec, candidate) : undefined)
        }),
      expected: spec.n,
      id: (entrant) => String(entrant.candidate.index),
      key: rules.duplicates === "MERGE" ? mergeKey : undefined,
      compare,
      roomForMatch: run.budget.cutUnlessRoomFor("round"),
      onField:
        speculator === undefined
          ? undefined
          : (alive: ReadonlyArray<Entrant>, unheard: number) =>
              Effect.andThen(
                speculator.prune(alive.map((entrant) => entrant.candidate)),
                alive.length + unheard <= width
                  ? speculator.start(
                      alive.map((entrant) => entrant.candidate),
                      callsPerMatch,
                    )
                  : Effect.void,
              ),
      onMatch: (record, among) => {
        // Each match is its own round for the estimates (matches no longer start together).
        const { outcome } = record
        run.budget.recordRound(outcome.endedAtMs - outcome.startedAtMs, outcome.decision?.completionTokens ?? 0)
        return traceMatch(among, record)
      },
    }).pipe(settledOnError(speculator))
    const chosen = streamed.entrants[streamed.winner]!.candidate
    const by = streamed.stoppedEarly ? "CUT_SHORT" : streamed.entrants.length === 1 ? "ONLY_CANDIDATE" : "TOURNAMENT"
    const prefetched =
      speculator === undefined ? undefined : yield* speculator.settle(streamed.stoppedEarly ? undefined : chosen)
    return { ...(yield* choose(chosen, by)), prefetched } satisfies StepChoice
  }

  let roundStartMs = 0
  let roundStartTokens = 0
  const closeRound = Effect.map(run.trace.elapsed, (now) =>
    run.budget.recordRound(now - roundStartMs, run.usage.completionTokens() - roundStartTokens),
  )
  // The entrants that play (merged copies do not) and those that lost a match so far.
  const contenders =
    rules.duplicates === "MERGE" ? mergeDuplicates(entrants, mergeKey).distinct : entrants.map((_, i) => i)
  const lost = new Set<number>()
  const result = yield* runTournament(rules.tournament, entrants, compare, {
    seed: deriveSeed(run.seed, "pairing", spec.step),
    key: rules.duplicates === "MERGE" ? mergeKey : undefined,
    ...(speculator !== undefined && {
      // Losers are pruned as each match is decided (onMatch below); a round only starts what it may.
      onRound: (alive: ReadonlyArray<number>, matches: number) =>
        alive.length <= width
          ? speculator.start(
              alive.map((i) => entrants[i]!.candidate),
              matches * callsPerMatch,
            )
          : Effect.void,
    }),
    continueRound: (round) =>
      Effect.gen(function* () {
        if (round > 0) yield* closeRound
        const room = yield* run.budget.cutUnlessRoomFor("round")
        roundStartMs = yield* run.trace.elapsed
        roundStartTokens = run.usage.completionTokens()
        return room
      }),
    onMatch: (record) =>
      Effect.andThen(traceMatch(entrants, record), () => {
        if (speculator === undefined) return Effect.void
        // A loser's call is interrupted as it loses, not when the round's slowest match is over.
        lost.add(record.winner === record.first ? record.second : record.first)
        return speculator.prune(contenders.filter((i) => !lost.has(i)).map((i) => entrants[i]!.candidate))
      }),
  }).pipe(settledOnError(speculator))
  if (!result.stoppedEarly) yield* closeRound
  const chosen = entrants[result.winner]!.candidate
  // A step cut short ends the search: nothing started ahead is kept.
  const prefetched =
    speculator === undefined ? undefined : yield* speculator.settle(result.stoppedEarly ? undefined : chosen)
  const choice = yield* choose(chosen, result.stoppedEarly ? "CUT_SHORT" : "TOURNAMENT")
  return { ...choice, prefetched } satisfies StepChoice
})

/**
 * What a pointwise judge scores of an entrant: a stage's inner text, but for CONCLUSION the whole answer (the
 * chosen stages and this conclusion, as SWIRES scores its final candidates), and the whole text for ALL.
 */
export const scoredText = (spec: StepSpec, entrant: Entrant): string | undefined => {
  if (entrant.judged === undefined) return undefined
  if (spec.kind === "CONCLUSION") return spec.prefix + entrant.candidate.text
  return entrant.judged
}

export interface ScoredEntrant {
  readonly entrant: Entrant
  /** -Infinity for an entrant the judge cannot read (it is not sent). */
  readonly score: number
}

/**
 * Scores the texts of one step's entrants (each distinct text once, in one scoring call the judge may batch; an
 * entrant without a text scores -Infinity unsent) and traces each candidate's score (copies share it).
 */
export const scoreTexts = Effect.fnUntraced(function* (
  run: Run,
  step: number,
  kind: StepKind,
  /** `step`: the entrant's own step when the texts come from several (SWIRES's conclusions). */
  items: ReadonlyArray<{ readonly entrant: Entrant; readonly text: string | undefined; readonly step?: number }>,
  seed: number,
) {
  const distinct = [...new Set(items.flatMap((item) => (item.text === undefined ? [] : [item.text])))]
  const startedAtMs = yield* run.trace.elapsed
  const scores =
    distinct.length === 0
      ? undefined
      : yield* run.score(step, {
          kind,
          question: run.request.question,
          imageUrl: run.request.imageUrl,
          responses: distinct,
          seed,
        })
  const endedAtMs = yield* run.trace.elapsed
  const byText = new Map(distinct.map((text, i) => [text, scores?.scores[i] ?? Number.NEGATIVE_INFINITY]))
  const scored = items.map(
    ({ entrant, text }): ScoredEntrant => ({
      entrant,
      score: text === undefined ? Number.NEGATIVE_INFINITY : (byText.get(text) ?? Number.NEGATIVE_INFINITY),
    }),
  )
  for (const [i, { entrant, score }] of scored.entries()) {
    if (!Number.isFinite(score)) continue
    yield* run.trace.emit({
      _tag: "CandidateScored",
      step: items[i]!.step ?? step,
      kind,
      index: entrant.candidate.index,
      score,
      server: scores?.server ?? "",
      startedAtMs,
      endedAtMs,
    })
  }
  return scored
})

/** Scores a step's entrants on what a pointwise judge sees of them (scoredText). */
export const scoreEntrants = (run: Run, spec: StepSpec, entrants: ReadonlyArray<Entrant>, seed: number) =>
  scoreTexts(
    run,
    spec.step,
    spec.kind,
    entrants.map((entrant) => ({ entrant, text: scoredText(spec, entrant) })),
    seed,
  )

/**
 * The entrants ranked by score, best first; equal scores in a seeded order (copies of one text each count, so a text
 * written twice keeps its weight; MERGE ranks one entrant per text).
 */
export const rankByScore = <S extends ScoredEntrant>(
  scored: ReadonlyArray<S>,
  seed: number,
  merge: boolean,
): ReadonlyArray<S> => {
  const rng = makeRng(seed)
  const seen = new Set<string>()
  const pool = merge
    ? scored.filter(({ entrant }) => {
        const key = mergeKey(entrant)
        if (seen.has(key)) return false
        seen.add(key)
        return true
      })
    : scored
  return pool
    .map((item) => ({ item, tieBreak: rng() }))
    .sort((a, b) => b.item.score - a.item.score || a.tieBreak - b.tieBreak)
    .map(({ item }) => item)
}

/** A step with a pointwise judge: every distinct candidate scored in one call, the highest kept (seeded tie-break). */
const pickByScore = Effect.fnUntraced(function* (run: Run, spec: StepSpec, entrants: ReadonlyArray<Entrant>) {
  if (new Set(entrants.map(mergeKey)).size === 1) {
    const pick = Math.floor(makeRng(deriveSeed(run.seed, "identical", spec.step))() * entrants.length)
    return { candidate: entrants[pick]!.candidate, by: "ONLY_CANDIDATE" as const }
  }
  if (!(yield* run.budget.cutUnlessRoomFor("round"))) {
    return { candidate: entrants[0]!.candidate, by: "CUT_SHORT" as const }
  }
  const startMs = yield* run.trace.elapsed
  const startTokens = run.usage.completionTokens()
  const scored = yield* scoreEntrants(run, spec, entrants, deriveSeed(run.seed, "score", spec.step))
  run.budget.recordRound((yield* run.trace.elapsed) - startMs, run.usage.completionTokens() - startTokens)
  const ranked = rankByScore(
    scored,
    deriveSeed(run.seed, "score-ties", spec.step),
    run.selection.rules.duplicates === "MERGE",
  )
  return { candidate: ranked[0]!.entrant.candidate, by: "SCORE" as const }
})
