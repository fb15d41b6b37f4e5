import { Effect, type Scope } from "effect"

export interface EmbeddedFleet {
  readonly urls: ReadonlyArray<string>
}

/**
 * Simulated vLLM servers in this process, for `npm start` without STAGEBEAM_ENDPOINTS, demos and tests.
 * The simulator is loaded only when it is used.
 */
export const startEmbeddedFleet = (options: {
  readonly servers: number
  readonly speed: number
  readonly model: string
}): Effect.Effect<EmbeddedFleet, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { serveSimulator } = yield* Effect.promise(() => import("@stagebeam/vllm-sim"))
    const servers = yield* Effect.forEach(
      Array.from({ length: options.servers }, (_, i) => i),
      (i) =>
        serveSimulator({ port: 0, host: "127.0.0.1", speed: options.speed, model: options.model, seed: i + 1 }).pipe(
          Effect.orDie,
        ),
      { concurrency: "unbounded" },
    )
    return { urls: servers.map((server) => server.url) }
  })
