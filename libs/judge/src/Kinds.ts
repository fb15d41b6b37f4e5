import { Context } from "effect"
import type { JudgeKind } from "./JudgeKind.ts"
import { pairwiseKind } from "./PairwiseJudge.ts"
import { ratingKind } from "./RatingJudge.ts"
import { crossEncoderKind, rewardKind } from "./RewardJudge.ts"

/** The kinds stagebeam brings: pairwise (a chat model), reward (/pooling), cross-encoder (/score), rating (a chat model's score). */
export const BUILT_IN_KINDS: ReadonlyArray<JudgeKind> = [pairwiseKind, rewardKind, crossEncoderKind, ratingKind]

const byName = (kinds: ReadonlyArray<JudgeKind>): ReadonlyMap<string, JudgeKind> =>
  new Map(kinds.map((kind) => [kind.name, kind]))

/**
 * The judge kinds a declaration may name, by name: the built-in ones unless a program provides its own. Adding a
 * kind is implementing JudgeKind and providing `JudgeKinds.with(kind)` where the gateway (or Judges.layer) is built.
 */
export const JudgeKinds = Context.Reference<ReadonlyMap<string, JudgeKind>>("@stagebeam/judge/JudgeKinds", {
  defaultValue: () => byName(BUILT_IN_KINDS),
})

/** The built-in kinds and these (a kind of the same name replaces the built-in one). */
export const withJudgeKinds = (...kinds: ReadonlyArray<JudgeKind>): ReadonlyMap<string, JudgeKind> =>
  byName([...BUILT_IN_KINDS, ...kinds])
