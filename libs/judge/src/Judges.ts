import { GeneratorPool, JudgePool } from "@stagebeam/fleet"
import { Judge } from "@stagebeam/search"
import { Effect, Layer } from "effect"
import { makeLlmJudge } from "./LlmJudge.ts"

/** The paper's setup: the generator model judges its own candidates, on the same servers. */
export const selfJudgeLayer: Layer.Layer<Judge, never, GeneratorPool> = Layer.effect(
  Judge,
  Effect.map(GeneratorPool, (pool) => Judge.of(makeLlmJudge(pool))),
)

/** A separately served judge model (any OpenAI-compatible chat model) on its own pool. */
export const modelJudgeLayer: Layer.Layer<Judge, never, JudgePool> = Layer.effect(
  Judge,
  Effect.map(JudgePool, (pool) => Judge.of(makeLlmJudge(pool))),
)
