import type { StepKind } from "@stagebeam/cot"
import { Effect, Fiber } from "effect"
import type { DeadlineReached, GenerationFailed } from "./Errors.ts"
import type { Run, TimedGeneration } from "./Run.ts"
import type { GeneratedText, GenerationRequest, SampleListener } from "./Services.ts"

/** A generation call started ahead of its step (speculation), not yet counted in the usage or the estimates. */
export interface Prefetched {
  readonly step: number
  readonly kind: StepKind
  readonly generation: GenerationRequest
  readonly fiber: Fiber.Fiber<TimedGeneration, GenerationFailed>
  /** From now on, `onSample` hears the call's samples (those finished already at once). */
  readonly listen: (onSample: SampleListener) => void
}

/**
 * Starts a generation call ahead of its step, in a fiber of the calling one (interrupting it aborts the call). It
 * counts for nothing until `adopt` takes it: a discarded one leaves the usage and the budget as if never made.
 */
export const prefetch = (
  run: Run,
  step: number,
  kind: StepKind,
  generation: GenerationRequest,
  /**
   * Whether the step will listen to the call's samples as they finish (Listening.ts). When not, the call is made
   * unstreamed; a listener that comes anyway hears nothing early, as with a generator that cannot tell.
   */
  listened = true,
): Effect.Effect<Prefetched> => startPrefetch(run, step, kind, generation, listened)

/**
 * prefetch's work. Generators on a search's path are made once, at module level (StepMatch's playMatch says why), so
 * what one needs of the call comes as arguments.
 */
const startPrefetch = Effect.fnUntraced(function* (
  run: Run,
  step: number,
  kind: StepKind,
  generation: GenerationRequest,
  listened: boolean,
) {
  const startedAtMs = yield* run.trace.elapsed
  // Samples heard before anyone listens are kept for the listener.
  const heard: Array<readonly [number, GeneratedText]> = []
  let listener: SampleListener | undefined
  const onSample: SampleListener = (index, sample) =>
    listener === undefined ? heard.push([index, sample]) : listener(index, sample)
  const fiber = yield* Effect.forkChild(
    timedCall(run, step, kind, generation, listened ? onSample : undefined, startedAtMs),
  )
  const listen = (next: SampleListener) => {
    for (const [index, sample] of heard.splice(0)) next(index, sample)
    listener = next
  }
  return { step, kind, generation, fiber, listen } satisfies Prefetched
})

/** The prefetched call itself, timed from when it was started. */
const timedCall = Effect.fnUntraced(function* (
  run: Run,
  step: number,
  kind: StepKind,
  generation: GenerationRequest,
  onSample: SampleListener | undefined,
  startedAtMs: number,
) {
  const result = yield* run.call(step, kind, generation, onSample)
  return { result, startedAtMs, endedAtMs: yield* run.trace.elapsed } satisfies TimedGeneration
})

/** Waits for a prefetched call under the deadline (as if it had been made now) and counts it like `run.generate`. */
export const adopt = (
  run: Run,
  prefetched: Prefetched,
): Effect.Effect<TimedGeneration, GenerationFailed | DeadlineReached> =>
  run.budget
    .joinWithinDeadline(prefetched.fiber, `the ${prefetched.kind} generation call`)
    .pipe(Effect.ensuring(Fiber.interrupt(prefetched.fiber)), Effect.map(run.account))

/**
 * Interrupts a prefetched call that will not be used (the HTTP request is aborted with it), without waiting for it to
 * wind down: the search goes on at once. Signalled on the call's own fiber, so it holds whichever fiber asks (a
 * match's, which ends at once) and the call cannot outlive the search (it is the search's child).
 */
export const discard = (prefetched: Prefetched | undefined): Effect.Effect<void> =>
  prefetched === undefined ? Effect.void : Effect.sync(() => prefetched.fiber.interruptUnsafe())

const sameCall = (a: GenerationRequest, b: GenerationRequest) =>
  a.prefix === b.prefix && a.n === b.n && a.seed === b.seed && a.stop.join("\u0000") === b.stop.join("\u0000")

/** How a step's sampling makes one generation call (attempt 0 is the first); `run.generate` by default. */
export type GenerationCall = (
  attempt: number,
  generation: GenerationRequest,
  onSample: SampleListener | undefined,
) => Effect.Effect<TimedGeneration, GenerationFailed | DeadlineReached>

/**
 * The step's calls where one was `prefetched` for it: its first attempt takes that call when it is the same call
 * (listening to it from now on), else discards it and makes its own.
 */
export const callTaking =
  (run: Run, step: number, kind: StepKind, prefetched: Prefetched | undefined): GenerationCall =>
  (attempt, generation, onSample) =>
    takeCall(run, step, kind, prefetched, attempt, generation, onSample)

const takeCall = Effect.fnUntraced(function* (
  run: Run,
  step: number,
  kind: StepKind,
  prefetched: Prefetched | undefined,
  attempt: number,
  generation: GenerationRequest,
  onSample: SampleListener | undefined,
) {
  const ahead = attempt === 0 && prefetched !== undefined && sameCall(prefetched.generation, generation)
  if (attempt === 0 && prefetched !== undefined && !ahead) yield* discard(prefetched)
  if (!ahead) return yield* run.generate(step, kind, generation, false, onSample)
  if (onSample !== undefined) prefetched.listen(onSample)
  return yield* adopt(run, prefetched)
})
