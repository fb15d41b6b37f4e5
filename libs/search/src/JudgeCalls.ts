import { Effect } from "effect"
import type { Budget } from "./Budget.ts"
import { type DeadlineReached, JudgeFailed } from "./Errors.ts"
import {
  type CorrectnessInput,
  type CorrectnessVerdict,
  isPointwise,
  type Judge,
  type MatchInput,
  type PairwiseJudging,
  type PointwiseJudging,
  type ScoreInput,
  type Scores,
  type ServiceFailure,
  type Verdict,
} from "./Services.ts"
import type { UsageCounter } from "./Usage.ts"
import { decideVerdict } from "./Verdicts.ts"

/** A pairwise judge as a search calls it: each call bound by the deadline and counted in the usage. */
export interface PairwiseCalls {
  readonly _tag: "Pairwise"
  /** One verdict under the match's unclear rule, which the search applies (decideVerdict): the judge only answers. */
  readonly compare: (step: number, match: MatchInput) => Effect.Effect<Verdict, JudgeFailed | DeadlineReached>
  readonly checkReasoning: (
    step: number,
    input: CorrectnessInput,
  ) => Effect.Effect<CorrectnessVerdict, JudgeFailed | DeadlineReached>
  /** Whether the judge can answer CHOICE verdicts now (a judge that does not say can). */
  readonly canChoose: Effect.Effect<boolean>
}

/** A pointwise judge as a search calls it: a step keeps the highest score instead of running a tournament. */
export interface PointwiseCalls {
  readonly _tag: "Pointwise"
  readonly score: (step: number, input: ScoreInput) => Effect.Effect<Scores, JudgeFailed | DeadlineReached>
}

const failed =
  (step: number, kind: JudgeFailed["kind"], what: string) =>
  (cause: ServiceFailure): JudgeFailed =>
    new JudgeFailed({ step, kind, message: `${what} failed: ${cause.message}`, cause })

const pairwiseCalls = (judge: PairwiseJudging, budget: Budget, usage: UsageCounter): PairwiseCalls => {
  /** One judge call, as the judge answered it. */
  const ask = (step: number, match: MatchInput) =>
    budget
      .withinDeadline(
        judge.compare(match).pipe(Effect.mapError(failed(step, match.kind, `a ${match.kind} judge call`))),
        `a ${match.kind} judge call`,
      )
      .pipe(
        Effect.tap((verdict) =>
          Effect.sync(() =>
            usage.verdict({
              promptTokens: verdict.promptTokens,
              completionTokens: verdict.completionTokens,
              calls: verdict.calls ?? 1,
              tokensEstimated: verdict.tokensEstimated,
            }),
          ),
        ),
      )
  return {
    _tag: "Pairwise",
    compare: (step, match) => decideVerdict(match, (asked) => ask(step, asked)),
    checkReasoning: (step, input) =>
      budget
        .withinDeadline(
          judge.checkReasoning(input).pipe(Effect.mapError(failed(step, "REASONING", "a reasoning check"))),
          "a reasoning check",
        )
        .pipe(Effect.tap((verdict) => Effect.sync(() => usage.check(verdict)))),
    canChoose:
      judge.capabilities === undefined
        ? Effect.succeed(true)
        : Effect.map(judge.capabilities, (capabilities) => capabilities.choice),
  }
}

const pointwiseCalls = (judge: PointwiseJudging, budget: Budget, usage: UsageCounter): PointwiseCalls => ({
  _tag: "Pointwise",
  score: (step, input) =>
    budget
      .withinDeadline(
        judge.score(input).pipe(Effect.mapError(failed(step, input.kind, `a ${input.kind} scoring call`))),
        `a ${input.kind} scoring call`,
      )
      .pipe(
        Effect.tap((scores) =>
          Effect.sync(() =>
            usage.scoring({
              promptTokens: scores.promptTokens,
              completionTokens: scores.completionTokens,
              calls: scores.calls ?? 1,
              tokensEstimated: scores.tokensEstimated,
            }),
          ),
        ),
      ),
})

/** The run's judge calls: what its judge does, and nothing it does not (no strategy can ask it for more). */
export const judgeCalls = (
  judge: Judge["Service"],
  budget: Budget,
  usage: UsageCounter,
): PairwiseCalls | PointwiseCalls =>
  isPointwise(judge) ? pointwiseCalls(judge, budget, usage) : pairwiseCalls(judge, budget, usage)
