import { Effect, Fiber } from "effect"
import { makeRng, shuffle } from "./Seeds.ts"
import { quietSpan } from "./Spans.ts"

/** One match's span (see quietSpan). */
export const matchSpan = (slot: MatchSlot) => quietSpan("tournament.match", { round: slot.round, match: slot.index })

/** Where a match sits: its round (0-based; for SEQUENTIAL the depth) and its position within the round. */
export interface MatchSlot {
  readonly round: number
  readonly index: number
}

/** What `compare` must return: which of the two shown entrants won (0 = first, 1 = second), plus anything to keep. */
export interface Outcome {
  readonly winner: 0 | 1
}

export interface MatchRecord<O extends Outcome> extends MatchSlot {
  /** Entrant indices (positions in the array given to the tournament), in the order they were shown. */
  readonly first: number
  readonly second: number
  readonly winner: number
  readonly outcome: O
}

export interface TournamentResult<O extends Outcome> {
  /** Index of the winning entrant (with `key`, merged duplicates are represented by their first occurrence). */
  readonly winner: number
  /** Rounds played: ⌈log₂ M⌉ for KNOCKOUT, M − 1 for SEQUENTIAL (M entrants, distinct ones with `key`) unless stopped early. */
  readonly rounds: number
  readonly matches: ReadonlyArray<MatchRecord<O>>
  /** True when `continueRound` refused a round and the winner is only the best entrant so far. */
  readonly cutShort: boolean
  /** For each entrant, the index of the entrant it was merged into (itself when it was the first of its kind). */
  readonly mergedInto: ReadonlyArray<number>
}

export interface TournamentOptions<A, O extends Outcome, E, R> {
  /** Seeds the pairings. */
  readonly seed: number
  /**
   * When given, entrants with equal keys are merged before judging (no match is ever played between equal texts);
   * without it every entrant plays, so a text given twice keeps its double weight.
   */
  readonly key?: ((entrant: A) => string) | undefined
  /** Asked before each round; false ends the tournament with the best entrant so far. */
  readonly continueRound?: ((round: number) => Effect.Effect<boolean, E, R>) | undefined
  /**
   * Called as each round starts (its matches already asked), with the entrants that may still win and the round's
   * match count: what follows the tournament may start on them (speculation). Not called for a round cut short.
   */
  readonly onRound?: ((alive: ReadonlyArray<number>, matches: number) => Effect.Effect<void, E, R>) | undefined
  /** Called as soon as each match is decided (matches of a KNOCKOUT round complete in any order). */
  readonly onMatch?: ((record: MatchRecord<O>) => Effect.Effect<void, E, R>) | undefined
}

export type Compare<A, O extends Outcome, E, R> = (first: A, second: A, slot: MatchSlot) => Effect.Effect<O, E, R>

/** The first occurrence of each key, and for every entrant the first occurrence it merges into. */
export const mergeDuplicates = <A>(
  entrants: ReadonlyArray<A>,
  key: (entrant: A) => string,
): { readonly distinct: ReadonlyArray<number>; readonly mergedInto: ReadonlyArray<number> } => {
  const firstByKey = new Map<string, number>()
  const mergedInto = entrants.map((entrant, index) => {
    const k = key(entrant)
    const first = firstByKey.get(k)
    if (first !== undefined) return first
    firstByKey.set(k, index)
    return index
  })
  return { distinct: [...firstByKey.values()], mergedInto }
}

const always = () => Effect.succeed(true)

const entrantsOf = <A>(entrants: ReadonlyArray<A>, key: ((entrant: A) => string) | undefined) =>
  key === undefined
    ? { distinct: entrants.map((_, index) => index), mergedInto: entrants.map((_, index) => index) }
    : mergeDuplicates(entrants, key)

const playMatch = Effect.fnUntraced(function* <A, O extends Outcome, E, R>(
  entrants: ReadonlyArray<A>,
  compare: Compare<A, O, E, R>,
  options: TournamentOptions<A, O, E, R>,
  slot: MatchSlot,
  first: number,
  second: number,
) {
  const outcome = yield* compare(entrants[first] as A, entrants[second] as A, slot).pipe(matchSpan(slot))
  const record: MatchRecord<O> = { ...slot, first, second, winner: outcome.winner === 0 ? first : second, outcome }
  if (options.onMatch) yield* options.onMatch(record)
  return record
})

// When a tournament is cut short, the best entrant so far is the one with most wins (ties: earliest in `order`).
const bestSoFar = (order: ReadonlyArray<number>, wins: Map<number, number>): number =>
  order.reduce((best, candidate) => ((wins.get(candidate) ?? 0) > (wins.get(best) ?? 0) ? candidate : best))

/**
 * A single-elimination bracket: the (distinct) entrants in a seeded random order, paired neighbour by neighbour; with an
 * odd count the last one gets a bye and leads the next round (so no one gets two byes in a row). All matches of a
 * round run in parallel, so a round lasts as long as its slowest match. M distinct entrants → M − 1 matches in
 * ⌈log₂ M⌉ rounds.
 */
export const knockout = Effect.fnUntraced(function* <A, O extends Outcome, E, R>(
  entrants: ReadonlyArray<A>,
  compare: Compare<A, O, E, R>,
  options: TournamentOptions<A, O, E, R>,
) {
  if (entrants.length === 0) return yield* Effect.die(new Error("knockout needs at least one entrant"))
  const { distinct, mergedInto } = entrantsOf(entrants, options.key)
  const continueRound = options.continueRound ?? always
  const matches: Array<MatchRecord<O>> = []
  const wins = new Map<number, number>()
  let order = shuffle(distinct, makeRng(options.seed))
  let round = 0
  while (order.length > 1) {
    if (!(yield* continueRound(round))) {
      return { winner: bestSoFar(order, wins), rounds: round, matches, cutShort: true, mergedInto }
    }
    const pairs = Array.from({ length: Math.floor(order.length / 2) }, (_, i) => [order[2 * i]!, order[2 * i + 1]!])
    const bye = order.length % 2 === 1 ? order[order.length - 1] : undefined
    // A lone match (a final) plays as it is: Effect.all would fork a fiber for it beside the round's.
    const playRound = (
      pairs.length === 1
        ? Effect.map(
            playMatch(entrants, compare, options, { round, index: 0 }, pairs[0]![0]!, pairs[0]![1]!),
            (record) => [record],
          )
        : Effect.all(
            pairs.map(([first, second], index) =>
              playMatch(entrants, compare, options, { round, index }, first as number, second as number),
            ),
            { concurrency: "unbounded" },
          )
    ).pipe(quietSpan("tournament.round", { round, matches: pairs.length }))
    let played: ReadonlyArray<MatchRecord<O>>
    if (options.onRound) {
      // The round's matches are asked first, started at once (no scheduler turn, no async context to capture): what
      // onRound starts (speculation) queues behind their judge calls.
      const playing = yield* Effect.forkChild(playRound, { startImmediately: true })
      yield* options.onRound(order, pairs.length)
      played = yield* Fiber.join(playing)
    } else played = yield* playRound
    matches.push(...played)
    for (const record of played) wins.set(record.winner, (wins.get(record.winner) ?? 0) + 1)
    order = [...(bye === undefined ? [] : [bye]), ...played.map((record) => record.winner)]
    round++
  }
  return { winner: order[0]!, rounds: round, matches, cutShort: false, mergedInto } as TournamentResult<O>
})

/**
 * The reference's selection: while more than one (distinct) entrant is left, draw two at random (seeded; the first
 * drawn is shown first), judge them, put the winner back at the end of the pool. M − 1 matches, one after the
 * other (M − 1 rounds deep).
 */
export const sequential = Effect.fnUntraced(function* <A, O extends Outcome, E, R>(
  entrants: ReadonlyArray<A>,
  compare: Compare<A, O, E, R>,
  options: TournamentOptions<A, O, E, R>,
) {
  if (entrants.length === 0) return yield* Effect.die(new Error("sequential needs at least one entrant"))
  const { distinct, mergedInto } = entrantsOf(entrants, options.key)
  const continueRound = options.continueRound ?? always
  const rng = makeRng(options.seed)
  const matches: Array<MatchRecord<O>> = []
  const wins = new Map<number, number>()
  const pool = distinct.slice()
  let round = 0
  while (pool.length > 1) {
    if (!(yield* continueRound(round))) {
      return { winner: bestSoFar(pool, wins), rounds: round, matches, cutShort: true, mergedInto }
    }
    const first = pool.splice(Math.floor(rng() * pool.length), 1)[0]!
    const second = pool.splice(Math.floor(rng() * pool.length), 1)[0]!
    const playing = playMatch(entrants, compare, options, { round, index: 0 }, first, second)
    let record: MatchRecord<O>
    if (options.onRound) {
      // As in a knockout round: the match is asked first, what onRound starts queues behind it.
      const fiber = yield* Effect.forkChild(playing, { startImmediately: true })
      yield* options.onRound([first, second, ...pool], 1)
      record = yield* Fiber.join(fiber)
    } else record = yield* playing
    matches.push(record)
    wins.set(record.winner, (wins.get(record.winner) ?? 0) + 1)
    pool.push(record.winner)
    round++
  }
  return { winner: pool[0]!, rounds: round, matches, cutShort: false, mergedInto } as TournamentResult<O>
})

export type TournamentKind = "KNOCKOUT" | "SEQUENTIAL"

/** Runs the named tournament. */
export const runTournament = <A, O extends Outcome, E, R>(
  kind: TournamentKind,
  entrants: ReadonlyArray<A>,
  compare: Compare<A, O, E, R>,
  options: TournamentOptions<A, O, E, R>,
): Effect.Effect<TournamentResult<O>, E, R> =>
  kind === "KNOCKOUT" ? knockout(entrants, compare, options) : sequential(entrants, compare, options)
