import { type Duration, Effect, Metric, Redacted, Ref, type Scope } from "effect"
import type { NoCapacity, UpstreamError } from "./FleetError.ts"
import { keyRetries } from "./FleetMetrics.ts"

type Key = Redacted.Redacted<string> | undefined

/** The key a pool's calls carry, and how it is kept current. */
export interface PoolKey {
  /** The key for a call now. */
  readonly current: Effect.Effect<Key>
  /**
   * `current` as a plain read where it is one (no key, or the key held from the last background read), so a try
   * needs no Effect step for it; undefined where the source is read for every call.
   */
  readonly currentUnsafe: (() => Key) | undefined
  /** Reads the source again now, for the calls from then on; undefined where every call reads it anyway. */
  readonly reread: Effect.Effect<Key> | undefined
}

const secretOf = (key: Key) => (key === undefined ? undefined : Redacted.value(key))

/**
 * A pool's key from its source (none: no key). Without `refresh` the source is read for every call: it must be cheap (a value in
 * memory; a Pool test rotates a key that way and expects the next call to carry it). With `refresh` (a key file,
 * whose read stats the file) the calls carry the last key read, off the call path: the source is read on that
 * schedule in the background, and again at once when a server refuses the key (`withFreshKey`). Health probes
 * carry the same key as the calls.
 */
export const makePoolKey = Effect.fnUntraced(function* (
  source: Effect.Effect<Key> | undefined,
  refresh: Duration.Duration | undefined,
): Effect.fn.Return<PoolKey, never, Scope.Scope> {
  if (source === undefined)
    return { current: Effect.succeed(undefined), currentUnsafe: () => undefined, reread: undefined }
  if (refresh === undefined) return { current: source, currentUnsafe: undefined, reread: undefined }
  const held = yield* Ref.make(yield* source)
  const reread = Effect.tap(source, (key) => Ref.set(held, key))
  yield* Effect.sleep(refresh).pipe(Effect.andThen(reread), Effect.forever, Effect.forkScoped)
  return { current: Ref.get(held), currentUnsafe: () => Ref.getUnsafe(held), reread }
})

const refusesKey = (error: UpstreamError | NoCapacity) =>
  error._tag === "UpstreamError" && (error.status === 401 || error.status === 403)

/**
 * A call a server answered 401 or 403 is tried once more when the key's source has another key by now than the
 * one the call went out with (a rotated key file the background read has not seen yet: each of the calls in flight
 * then, not only the first to be refused); otherwise the refusal stands. Each such retry is logged and counted
 * (`stagebeam_upstream_key_retries_total{pool}`): a rotation the refresh schedule lags behind shows there.
 */
export const withFreshKey = (key: PoolKey, pool: string) => {
  const retried = (server: string) =>
    Effect.andThen(
      Effect.logInfo(
        "a server refused the pool's key; the key file has another by now: the call is tried with it",
      ).pipe(Effect.annotateLogs({ pool, server })),
      Metric.update(Metric.withAttributes(keyRetries, { pool }), 1),
    )
  return <A>(call: Effect.Effect<A, UpstreamError | NoCapacity>): Effect.Effect<A, UpstreamError | NoCapacity> => {
    const { reread } = key
    if (reread === undefined) return call
    return Effect.flatMap(key.current, (sent) =>
      Effect.catchIf(call, refusesKey, (refused) =>
        Effect.flatMap(reread, (now) =>
          secretOf(now) !== secretOf(sent)
            ? Effect.andThen(retried(refused._tag === "UpstreamError" ? refused.server : ""), call)
            : Effect.fail(refused),
        ),
      ),
    )
  }
}
