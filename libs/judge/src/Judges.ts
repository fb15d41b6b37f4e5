import { type Capabilities, Fleet, type Pool } from "@stagebeam/fleet"
import type { Judge } from "@stagebeam/search"
import { Clock, Context, Effect, Layer } from "effect"
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

/**
 * `effect` counted and timed as one call of the judge: the series made once per judge and call (see `measured`), and
 * the clock and the counts read and written directly in one Effect step each side, since this wraps every judge call
 * (issue #24).
 */
const timer = (name: string, call: string) => {
  const attributes = { judge: name, call }
  const succeeded = labelled(judgeCalls, { ...attributes, outcome: "ok" })
  const failed = labelled(judgeCalls, { ...attributes, outcome: "error" })
  const duration = labelled(judgeCallDuration, attributes)
  return <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const started = clock.currentTimeMillisUnsafe()
      return Effect.onExit(effect, (exit) =>
        Effect.withFiber((ended) => {
          ;(exit._tag === "Success" ? succeeded : failed).updateUnsafe(1, ended.context)
          duration.updateUnsafe((clock.currentTimeMillisUnsafe() - started) / 1000, ended.context)
          return Effect.void
        }),
      )
    })
}

/** The judge with its calls counted and timed under its name. */
const measured = (name: string, judge: Judge["Service"]): Judge["Service"] => {
  if (judge.score !== undefined) {
    const score = judge.score
    const timedScore = timer(name, "score")
    return { score: (input) => timedScore(score(input)) }
  }
  const timedVerdict = timer(name, "verdict")
  const timedCheck = timer(name, "check")
  return {
    compare: (match) => timedVerdict(judge.compare(match)),
    checkReasoning: (input) => timedCheck(judge.checkReasoning(input)),
    capabilities: judge.capabilities,
  }
}

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
