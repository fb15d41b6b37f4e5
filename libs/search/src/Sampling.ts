import { Effect } from "effect"
import { classify } from "./Candidate.ts"
import { type Entrant, enters, entrantOf, mergeKey, type StepSpec } from "./Entrant.ts"
import { NoValidCandidate } from "./Errors.ts"
import type { GenerationCall } from "./Prefetch.ts"
import type { Run } from "./Run.ts"
import { deriveSeed } from "./Seeds.ts"
import type { GenerationRequest, SampleListener } from "./Services.ts"
import { mergeDuplicates } from "./Tournament.ts"

const MAX_ATTEMPTS = 2

/** The generation call of a step's attempt: a speculative one is the same call, only marked (for its priority). */
export const generationOf = (run: Run, spec: StepSpec, attempt: number, speculative = false): GenerationRequest => ({
  question: run.request.question,
  imageUrl: run.request.imageUrl,
  prefix: spec.prefix,
  n: spec.n,
  stop: spec.stop,
  ...(spec.stopTokenIds === undefined ? {} : { stopTokenIds: spec.stopTokenIds }),
  // Not capped by the token budget: a stage cut off by length is invalid, so a starved step would fail instead
  // of cutting the search short. The budget is checked before each step, from the costliest call so far.
  sampling: run.request.sampling,
  seed: deriveSeed(run.seed, "generate", spec.step, attempt),
  ...(speculative && { speculative: true }),
})

/**
 * Samples N candidates (one call). DROP: the invalid ones are dropped and the call made once more when none is
 * valid. KEEP: every candidate enters, as in the reference, which never resamples. `call` makes each attempt's call
 * (a schedule may hand over one started ahead, see Prefetch.ts).
 */
export const sample = Effect.fnUntraced(function* (
  run: Run,
  spec: StepSpec,
  /** Hears each sample of the call as it finishes (stragglers, speculation), before the call returns. */
  onSample?: SampleListener,
  call: GenerationCall = (_, generation, listener) => run.generate(spec.step, spec.kind, generation, false, listener),
) {
  const { duplicates } = run.selection.rules
  let problems: Array<string> = []
  let allCutByLength = false
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { result, startedAtMs, endedAtMs } = yield* call(attempt, generationOf(run, spec, attempt), onSample)
    const candidates = result.samples.map((generated, index) => classify(spec.kind, index, generated))
    const entrants = candidates
      .filter((candidate) => enters(run, candidate))
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
    if (entrants.length > 0) return entrants as ReadonlyArray<Entrant>
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
