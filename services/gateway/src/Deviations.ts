import { DEFAULTS } from "@stagebeam/cot"
import type { DeclaredJudge } from "@stagebeam/judge"
import { GENERATOR_POOL } from "./config/Resolve.ts"

/**
 * Ways a run differs from the reference's (PKU-YuanGroup/LLaVA-CoT inference/demo/simple_inference.py) beyond the
 * selection rules, named as the response's selection.deviations names them:
 * - "stragglers": matches start on the first finished samples, so a knockout runs as they come whatever
 *   the tournament reported (the reference samples every candidate, then pairs them);
 * - "judge.name": the judge is not the generator judging itself pairwise (a reward model, another model or pool);
 * - "sampling": generation sampled otherwise than the reference's 0.6 / 0.9 / 2048 tokens;
 * - "judge.sampling": the judge kept the reference's sampling while the request changed the generation's (the
 *   reference samples verdicts with the same settings as answers);
 * - "images.prescale": the gateway scaled the image to the processor's size before the server saw it.
 */
export const runDeviations = (facts: {
  readonly stragglers: boolean
  readonly judge: Pick<DeclaredJudge, "kind" | "pool" | "judging">
  readonly sampling: { readonly temperature: number; readonly topP: number; readonly maxTokens: number }
  readonly prescaled: boolean
}): ReadonlyArray<string> => {
  const resampled =
    facts.sampling.temperature !== DEFAULTS.temperature ||
    facts.sampling.topP !== DEFAULTS.topP ||
    facts.sampling.maxTokens !== DEFAULTS.maxTokens
  const selfJudge =
    facts.judge.kind === "pairwise" && facts.judge.judging === "pairwise" && facts.judge.pool === GENERATOR_POOL
  return [
    ...(facts.stragglers ? ["stragglers"] : []),
    ...(selfJudge ? [] : ["judge.name"]),
    ...(resampled ? ["sampling"] : []),
    ...(resampled && facts.judge.judging === "pairwise" ? ["judge.sampling"] : []),
    ...(facts.prescaled ? ["images.prescale"] : []),
  ]
}
