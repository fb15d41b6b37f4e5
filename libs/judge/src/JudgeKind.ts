import type { StepKind } from "@stagebeam/cot"
import type { Capabilities, Pool } from "@stagebeam/fleet"
import type { Judge } from "@stagebeam/search"
import { type Effect, Schema } from "effect"

/** Options a judge declaration may carry; each kind reads the ones it understands. */
export interface JudgeOptions {
  /** Pairwise: CHOICE verdicts where the request asks for them and the pool can constrain ("choice"), or never. */
  readonly verdicts?: "choice" | "free_text" | undefined
  /** Whether the judge is shown the image, per step kind (default: as the reference, every judge prompt). */
  readonly images?: Partial<Record<StepKind, boolean>> | undefined
  /** What a custom kind reads of its own (`judges.<name>.options` in the settings), as the file gives it. */
  readonly custom?: Readonly<Record<string, unknown>> | undefined
}

/** A judge as the configuration declares it. */
export interface JudgeDeclaration {
  readonly name: string
  /** The implementation, by the name it is registered under (see JudgeKinds). */
  readonly kind: string
  /** The pool whose servers answer its calls (the generator's pool for the paper's self-judge). */
  readonly pool: string
  readonly options?: JudgeOptions | undefined
}

/**
 * One kind of judge: how a declaration over a pool becomes the search's Judge service. A new kind is one value of
 * this interface, registered in JudgeKinds; declarations then name it as `kind`.
 */
export interface JudgeKind {
  readonly name: string
  /** What its judges do: compare two candidates, or score each on its own. */
  readonly judging: "pairwise" | "pointwise"
  readonly make: (pool: Pool, declaration: JudgeDeclaration) => Effect.Effect<Judge["Service"]>
}

/** Whether a declaration lets the judge see the image of a step of this kind (the reference shows it to every judge prompt). */
export const seesImage = (declaration: JudgeDeclaration, kind: StepKind): boolean =>
  declaration.options?.images?.[kind] ?? true

/**
 * vLLM's `priority` for a call on a running search's critical path (lower runs first): a judge's verdicts decide when
 * the search's next stage can start, so they go with the running search's continuations (0), before a new search's
 * first call (1, see FleetGenerator). Sent only where the pool's servers declare `priority`.
 */
export const criticalPathPriority = (capabilities: Capabilities): { readonly priority?: number } =>
  capabilities.priority ? { priority: 0 } : {}

/** A declaration names a kind nobody registered. */
export class UnknownJudgeKind extends Schema.TaggedError<UnknownJudgeKind>()("UnknownJudgeKind", {
  judge: Schema.String,
  kind: Schema.String,
  known: Schema.Array(Schema.String),
  message: Schema.String,
}) {}
