import { Context } from "effect"
import type { Pool } from "./Pool.ts"

/** The servers running the policy model (Llama-3.2V-11B-cot): candidates, and judging when the judge is "self". */
export class GeneratorPool extends Context.Service<GeneratorPool, Pool>()("@stagebeam/fleet/GeneratorPool") {}

/** A separately configured judge model's servers (JUDGE_MODEL). */
export class JudgePool extends Context.Service<JudgePool, Pool>()("@stagebeam/fleet/JudgePool") {}
