import { Fleet } from "@stagebeam/fleet"
import { FleetGenerator, Judges } from "@stagebeam/judge"
import { Effect, Layer } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GENERATOR_POOL, judgeDeclarationsOf, maxSamplesPerRequestOf, poolOptionsOf } from "./config/Resolve.ts"
import { GatewayConfigError } from "./GatewayErrors.ts"

/**
 * Every pool the settings declare. Each server
 * is probed at start; one that serves another model than its pool's stops the start like a bad setting (servers
 * that are down are probed when they join, and kept out of rotation then if they serve another model).
 */
export const fleetLayer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* GatewaySettings
    const pools = yield* poolOptionsOf(settings)
    return Layer.effect(
      Fleet,
      Fleet.make({ pools }).pipe(
        Effect.mapError(
          (error) =>
            new GatewayConfigError({ message: `invalid settings: pools.${error.pool}.model: ${error.message}` }),
        ),
      ),
    )
  }),
)

/** The search's CandidateGenerator over the generator pool. */
export const generatorLayer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* GatewaySettings
    return FleetGenerator.layer({
      pool: GENERATOR_POOL,
      maxSamplesPerRequest: maxSamplesPerRequestOf(settings, GENERATOR_POOL),
    })
  }),
)

/**
 * The judges the settings declare, each over its pool, by its kind (the built-in ones, and any a program provides
 * with JudgeKinds); an unknown kind stops the start like a bad setting.
 */
export const judgesLayer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* GatewaySettings
    return Judges.layer({ judges: judgeDeclarationsOf(settings), defaultName: settings.defaultJudge }).pipe(
      Layer.catchTag("UnknownJudgeKind", (error) =>
        Layer.effect(Judges, Effect.fail(new GatewayConfigError({ message: `invalid settings: ${error.message}` }))),
      ),
    )
  }),
)
