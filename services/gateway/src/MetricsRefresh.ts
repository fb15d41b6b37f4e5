import { Context, Effect, Layer } from "effect"

/**
 * Gauges set when /metrics is read rather than on timers of their own (process memory, event-loop delay, admission's
 * capacity): they are as fresh as the scrape that reads them, and an idle gateway wakes for nothing (issue #24).
 */
export class MetricsRefresh extends Context.Service<
  MetricsRefresh,
  {
    /** Runs `refresh` before every /metrics read from now on. */
    readonly register: (refresh: Effect.Effect<void>) => Effect.Effect<void>
    /** Every refresh registered, before a read. */
    readonly run: Effect.Effect<void>
  }
>()("@stagebeam/gateway/MetricsRefresh") {
  static readonly layer = Layer.sync(MetricsRefresh, () => {
    const refreshes: Array<Effect.Effect<void>> = []
    return MetricsRefresh.of({
      register: (refresh) => Effect.sync(() => void refreshes.push(refresh)),
      run: Effect.suspend(() => Effect.all(refreshes, { discard: true })),
    })
  })

  /** Registers `refresh` where a MetricsRefresh is provided (a gateway); elsewhere (a unit test) it is not run. */
  static readonly registerIfServed = (refresh: Effect.Effect<void>) =>
    Effect.flatMap(Effect.serviceOption(MetricsRefresh), (served) =>
      served._tag === "Some" ? served.value.register(refresh) : Effect.void,
    )
}
