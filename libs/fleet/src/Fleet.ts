import { Context, Effect, Layer } from "effect"
import type { ModelNotServed } from "./FleetError.ts"
import type { OpenAiClient } from "./OpenAiClient.ts"
import { makePool, type Pool, type PoolOptions } from "./Pool.ts"

export interface FleetOptions {
  readonly pools: ReadonlyArray<PoolOptions>
}

/** Every server pool of this gateway, by name: the generator's, and any judge or scorer pools. */
export class Fleet extends Context.Service<
  Fleet,
  {
    readonly pools: ReadonlyMap<string, Pool>
    /** The named pool; a name the configuration did not declare is a bug there (it checks every reference). */
    readonly pool: (name: string) => Effect.Effect<Pool>
  }
>()("@stagebeam/fleet/Fleet") {
  static readonly make = Effect.fnUntraced(function* (options: FleetOptions) {
    const built = yield* Effect.forEach(options.pools, (pool) => makePool(pool))
    // What each server is and can do, once at start (servers that are down are probed when they join); a server
    // that serves another model stops the start, as a configuration that cannot work.
    yield* Effect.forEach(built, (pool) => pool.probeAll, { concurrency: "unbounded", discard: true })
    const pools: ReadonlyMap<string, Pool> = new Map(built.map((pool) => [pool.name, pool]))
    const pool = (name: string) =>
      Effect.suspend(() => {
        const found = pools.get(name)
        return found === undefined
          ? Effect.die(new Error(`no pool "${name}"; declared: ${[...pools.keys()].join(", ")}`))
          : Effect.succeed(found)
      })
    return Fleet.of({ pools, pool })
  })

  /** Builds every pool and starts its probes over the OpenAiClient given; they stop when the layer's scope closes. */
  static readonly layer = (options: FleetOptions): Layer.Layer<Fleet, ModelNotServed, OpenAiClient> =>
    Layer.effect(Fleet, Fleet.make(options))
}
