import { Fleet } from "@stagebeam/fleet"
import type { Judge } from "@stagebeam/search"
import { Context, Effect, Layer } from "effect"
import { makePairwiseJudge } from "./PairwiseJudge.ts"

/** A judge as the configuration declares it. */
export interface JudgeDeclaration {
  readonly name: string
  /** The implementation: "pairwise" = a chat model asked which of two responses is better (the reference's). */
  readonly kind: "pairwise"
  /** The pool whose servers answer its calls (the generator's pool for the paper's self-judge). */
  readonly pool: string
}

/** A declared judge, ready to be given to a search. */
export interface DeclaredJudge extends JudgeDeclaration {
  /** The model its pool serves. */
  readonly model: string
  readonly judge: Judge["Service"]
}

/** The judges a request may pick by name, and the one it gets when it names none. */
export class Judges extends Context.Service<
  Judges,
  {
    readonly all: ReadonlyArray<DeclaredJudge>
    readonly get: (name: string) => DeclaredJudge | undefined
    readonly defaultName: string
  }
>()("@stagebeam/judge/Judges") {
  /** Builds every declared judge over its pool of the Fleet. The configuration has checked names and pools. */
  static readonly layer = (options: {
    readonly judges: ReadonlyArray<JudgeDeclaration>
    readonly defaultName: string
  }): Layer.Layer<Judges, never, Fleet> =>
    Layer.effect(
      Judges,
      Effect.gen(function* () {
        const fleet = yield* Fleet
        const all = yield* Effect.forEach(options.judges, (declaration) =>
          Effect.map(
            fleet.pool(declaration.pool),
            (pool): DeclaredJudge => ({ ...declaration, model: pool.model, judge: makePairwiseJudge(pool) }),
          ),
        )
        const byName = new Map(all.map((declared) => [declared.name, declared]))
        return Judges.of({ all, get: (name) => byName.get(name), defaultName: options.defaultName })
      }),
    )
}
