import { Clock, Effect } from "effect"
import { type SearchEvent, SearchEvents } from "./Events.ts"

/** An event without its time: `emitNow` stamps it. */
export type EventBody = SearchEvent extends infer E ? (E extends SearchEvent ? Omit<E, "atMs"> : never) : never

export interface Trace {
  /** Ms of Effect's Clock since the search started. */
  readonly elapsed: Effect.Effect<number>
  /** Records an event (with its own times) and publishes it to SearchEvents. */
  readonly emit: (event: SearchEvent) => Effect.Effect<void>
  /** Records and publishes an event stamped with the current time. */
  readonly emitNow: (body: EventBody) => Effect.Effect<void>
  readonly events: () => ReadonlyArray<SearchEvent>
  readonly count: (tag: SearchEvent["_tag"]) => number
}

/** The search's clock and its events, kept in order and delivered to the SearchEvents sink as they happen. */
export const makeTrace = Effect.fnUntraced(function* () {
  const sink = yield* SearchEvents
  const startMs = yield* Clock.currentTimeMillis
  const events: Array<SearchEvent> = []
  // One step: read many times per upstream call, where clockWith + sync + map took three.
  const elapsed = Effect.withFiberSucceed((fiber) => fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() - startMs)
  const emit = (event: SearchEvent) =>
    Effect.suspend(() => {
      events.push(event)
      return sink.publish(event)
    })
  return {
    elapsed,
    emit,
    emitNow: (body) => Effect.flatMap(elapsed, (atMs) => emit({ ...body, atMs } as SearchEvent)),
    events: () => events.slice(),
    count: (tag) => events.filter((event) => event._tag === tag).length,
  } satisfies Trace
})
