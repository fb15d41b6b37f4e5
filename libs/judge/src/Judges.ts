import { type Capabilities, Fleet, type Pool } from "@stagebeam/fleet"
import type { Judge } from "@stagebeam/search"
import { Clock, Context, Effect, Layer, Metric } from "effect"
import type { JudgeDeclaration, JudgeKind } from "./JudgeKind.ts"
import { UnknownJudgeKind } from "./JudgeKind.ts"
import { judgeCallDuration, judgeCalls, labelled } from "./JudgeMetrics.ts"
import { JudgeKinds } from "./Kinds.ts"

export type { JudgeDeclaration } from "./JudgeKind.ts"

/** A declared judge, ready to be given to a search. */
export interface DeclaredJudge extends JudgeDeclaration {
  /** The model its pool serves. */
  readonly model: string
  /** Whether it compares pairs or scores candidates one by one (its kind's). */
  readonly judging: JudgeKind["judging"]
  /** What its pool's servers can do now (declared, else probed). */
  readonly capabilities: Effect.Effect<Capabilities>
  readonly judge: Judge["Service"]
}

const timed = <A, E, R>(name: string, call: string, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const attributes = { judge: name, call }
    return yield* effect.pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.all([
            Metric.update(
              labelled(judgeCalls, { ...attributes, outcome: exit._tag === "Success" ? "ok" : "error" }),
              1,
            ),
            Metric.update(labelled(judgeCallDuration, attributes), (now - started) / 1000),
          ]),
        ),
      ),
    )
  })

/** The judge with its calls counted and timed under its name. */
const measured = (name: string, judge: Judge["Service"]): Judge["Service"] =>
  judge.score === undefined
    ? {
        compare: (match) => timed(name, "verdict", judge.compare(match)),
        checkReasoning: (input) => timed(name, "check", judge.checkReasoning(input)),
        capabilities: judge.capabilities,
      }
    : { score: (input) => timed(name, "score", judge.score(input)) }

const build = (declaration: JudgeDeclaration, pool: Pool, kinds: ReadonlyMap<string, JudgeKind>) =>
  Effect.gen(function* () {
    const kind = kinds.get(declaration.kind)
    if (kind === undefined) {
      const known = [...kinds.keys()]
      return yield* new UnknownJudgeKind({
        judge: declaration.name,
        kind: declaration.kind,
        known,
        message: `judges.${declaration.name}.kind: "${declaration.kind}" is no judge kind (known: ${known.join(", ")})`,
      })
    }
    const judge = yield* kind.make(pool, declaration)
    return {
      ...declaration,
      model: pool.model,
      judging: kind.judging,
      capabilities: pool.capabilities,
      judge: measured(declaration.name, judge),
    } satisfies DeclaredJudge
  })

/** The judges a request may pick by name, and the one it gets when it names none. */
export class Judges extends Context.Service<
  Judges,
  {
    readonly all: ReadonlyArray<DeclaredJudge>
    readonly get: (name: string) => DeclaredJudge | undefined
    readonly defaultName: string
  }
>()("@stagebeam/judge/Judges") {
  /**
   * Builds every declared judge over its pool of the Fleet, by its kind (JudgeKinds: the built-in ones unless the
   * program provides more). The configuration has checked names and pools; an unknown kind fails here.
   */
  static readonly layer = (options: {
    readonly judges: ReadonlyArray<JudgeDeclaration>
    readonly defaultName: string
  }): Layer.Layer<Judges, UnknownJudgeKind, Fleet> =>
    Layer.effect(
      Judges,
      Effect.gen(function* () {
        const fleet = yield* Fleet
        const kinds = yield* JudgeKinds
        const all = yield* Effect.forEach(options.judges, (declaration) =>
          Effect.flatMap(fleet.pool(declaration.pool), (pool) => build(declaration, pool, kinds)),
        )
        const byName = new Map(all.map((declared) => [declared.name, declared]))
        return Judges.of({ all, get: (name) => byName.get(name), defaultName: options.defaultName })
      }),
    )
}
