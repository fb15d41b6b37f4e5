import { Effect, Exit, Fiber, Queue } from "effect"
import { type Compare, type MatchRecord, matchSpan, type Outcome } from "./Tournament.ts"

/**
 * A knockout that fills as its samples finish (the N samples of one call finish at different times): whenever two
 * are waiting they play, while the others still decode, and the winner waits for the next. N − 1 matches as in the
 * knockout, but after the slowest sample only its own matches are left (one, when the rest are decided by then)
 * instead of ⌈log₂ N⌉ rounds. The pairing follows the finishing order, so the same seed can pair differently, and
 * a late sample may play fewer matches than an early one: the plain, seeded knockout is the reproducible schedule.
 */
export interface KnockoutAsTheyFinishOptions<A, O extends Outcome, E, R> {
  /**
   * Runs the sampling, handing on each sample as it is finished (by its id, with its entrant, or undefined for one that
   * does not enter); its result is every entrant (late ones included).
   */
  readonly sample: (finished: (id: string, entrant: A | undefined) => void) => Effect.Effect<ReadonlyArray<A>, E, R>
  /** Samples the call makes: once all are heard, the last match to start is the final (before the call returns). */
  readonly expected: number
  /** What tells one entrant from another (one heard twice counts once). */
  readonly id: (entrant: A) => string
  /** When given, an entrant whose key was seen already is merged into the first (it does not play). */
  readonly key?: ((entrant: A) => string) | undefined
  readonly compare: Compare<A, O, E, R>
  /** Asked before each match; false ends the tournament with the best entrant so far. */
  readonly roomForMatch: Effect.Effect<boolean, E, R>
  /**
   * Called whenever the field changes (a finished sample, a decided match), once the matches it allows are asked: the
   * entrants that may still win, and how many samples are still to come (speculation starts on them).
   */
  readonly onField?: ((alive: ReadonlyArray<A>, unheard: number) => Effect.Effect<void, E, R>) | undefined
  /** Called as each match is decided, with the entrants so far (the record's indices point into them). */
  readonly onMatch?: ((record: MatchRecord<O>, entrants: ReadonlyArray<A>) => Effect.Effect<void, E, R>) | undefined
}

export interface KnockoutAsTheyFinishResult<A, O extends Outcome> {
  /** Every entrant that played or could have, in the order they finished (merged copies left out). */
  readonly entrants: ReadonlyArray<A>
  /** Index of the winner in `entrants`. */
  readonly winner: number
  readonly matches: ReadonlyArray<MatchRecord<O>>
  /** `roomForMatch` refused a match: the winner is only the one with most wins so far. */
  readonly cutShort: boolean
}

interface Waiting {
  readonly entrant: number
  /** Matches it has won: the bracket level it waits at. */
  readonly level: number
}

type Event<A, O extends Outcome, E> =
  | { readonly _tag: "finished"; readonly id: string; readonly entrant: A | undefined }
  | { readonly _tag: "sampled"; readonly exit: Exit.Exit<ReadonlyArray<A>, E> }
  | { readonly _tag: "played"; readonly level: number; readonly exit: Exit.Exit<MatchRecord<O>, E> }

export const knockoutAsTheyFinish = Effect.fnUntraced(function* <A, O extends Outcome, E, R>(
  options: KnockoutAsTheyFinishOptions<A, O, E, R>,
) {
  const events = yield* Queue.unbounded<Event<A, O, E>>()
  const entrants: Array<A> = []
  const ids = new Set<string>()
  const heard = new Set<string>()
  const keys = new Set<string>()
  const waiting: Array<Waiting> = []
  const matches: Array<MatchRecord<O>> = []
  const wins = new Map<number, number>()
  const playedAtLevel = new Map<number, number>()
  const fibers: Array<Fiber.Fiber<void>> = []
  let running = 0
  let sampled = false
  let cutShort = false

  const enter = (entrant: A) => {
    const id = options.id(entrant)
    if (ids.has(id)) return
    ids.add(id)
    if (options.key !== undefined) {
      const key = options.key(entrant)
      if (keys.has(key)) return
      keys.add(key)
    }
    entrants.push(entrant)
    waiting.push({ entrant: entrants.length - 1, level: 0 })
  }

  // Any two waiting play at once, the lowest levels first (the first finished first among equals): a sample that
  // finishes last meets the winner of the others, so only the final is left after the slowest sample.
  const nextPair = (): readonly [Waiting, Waiting] | undefined => {
    if (waiting.length < 2) return undefined
    const lowest = [...waiting].sort((a, b) => a.level - b.level)
    return [lowest[0]!, lowest[1]!]
  }

  // Entrants in a match now: with those waiting, the ones that may still win.
  const playing = new Set<number>()
  const field = Effect.suspend(() =>
    options.onField === undefined
      ? Effect.void
      : options.onField(
          [...waiting.map((w) => w.entrant), ...playing].sort((a, b) => a - b).map((i) => entrants[i]!),
          sampled ? 0 : Math.max(0, options.expected - heard.size),
        ),
  )

  const play = (first: Waiting, second: Waiting, level: number, index: number) =>
    options.compare(entrants[first.entrant]!, entrants[second.entrant]!, { round: level, index }).pipe(
      matchSpan({ round: level, index }),
      Effect.map(
        (outcome): MatchRecord<O> => ({
          round: level,
          index,
          first: first.entrant,
          second: second.entrant,
          winner: outcome.winner === 0 ? first.entrant : second.entrant,
          outcome,
        }),
      ),
      Effect.exit,
      Effect.flatMap((exit) => Queue.offer(events, { _tag: "played", level, exit })),
      Effect.asVoid,
    )

  const schedule = Effect.gen(function* () {
    while (!cutShort) {
      const pair = nextPair()
      if (pair === undefined) return
      if (!(yield* options.roomForMatch)) {
        cutShort = true
        return
      }
      for (const w of pair) waiting.splice(waiting.indexOf(w), 1)
      const level = Math.max(pair[0].level, pair[1].level)
      const index = playedAtLevel.get(level) ?? 0
      playedAtLevel.set(level, index + 1)
      running++
      playing.add(pair[0].entrant)
      playing.add(pair[1].entrant)
      fibers.push(yield* Effect.forkChild(play(pair[0], pair[1], level, index)))
    }
  })

  const failWith = (exit: Exit.Failure<unknown, E>) =>
    Effect.andThen(Effect.forEach(fibers, Fiber.interrupt, { discard: true }), Effect.failCause(exit.cause))

  fibers.push(
    yield* Effect.forkChild(
      options
        .sample((id, entrant) => Queue.offerUnsafe(events, { _tag: "finished", id, entrant }))
        .pipe(
          Effect.exit,
          Effect.flatMap((exit) => Queue.offer(events, { _tag: "sampled", exit })),
          Effect.asVoid,
        ),
    ),
  )
  while (!(sampled && running === 0 && (cutShort || waiting.length <= 1))) {
    const event = yield* Queue.take(events)
    switch (event._tag) {
      case "finished":
        heard.add(event.id)
        if (event.entrant !== undefined) enter(event.entrant)
        break
      case "sampled":
        if (Exit.isFailure(event.exit)) return yield* failWith(event.exit)
        sampled = true
        for (const entrant of event.exit.value) enter(entrant)
        break
      case "played": {
        running--
        if (Exit.isFailure(event.exit)) return yield* failWith(event.exit)
        const record = event.exit.value
        playing.delete(record.first)
        playing.delete(record.second)
        matches.push(record)
        wins.set(record.winner, (wins.get(record.winner) ?? 0) + 1)
        waiting.push({ entrant: record.winner, level: event.level + 1 })
        if (options.onMatch !== undefined) yield* options.onMatch(record, entrants)
        break
      }
    }
    // Matches first: what the field starts (speculation) queues behind their judge calls.
    yield* schedule
    yield* field
  }
  const winner = waiting.reduce((best, w) => ((wins.get(w.entrant) ?? 0) > (wins.get(best.entrant) ?? 0) ? w : best))
  return { entrants, winner: winner.entrant, matches, cutShort } satisfies KnockoutAsTheyFinishResult<A, O>
})
