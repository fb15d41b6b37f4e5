import type { ServerProfile } from "./Probe.ts"
import type { ServerLoad } from "./ServerLoad.ts"

/**
 * Routing as llm-d's scheduler does it: filters narrow the servers a call may take, scorers rank the rest, a picker
 * chooses one. Each plugin is a small pure function of the endpoint views and the route request; a policy is one
 * value naming its plugins, picked by name (RoutingPolicies).
 */

/** What routing sees of one server, by where it comes from. */
export interface EndpointView {
  readonly url: string
  /** Its membership: whether it may take calls at all. */
  readonly member: {
    readonly up: boolean
    readonly leaving: boolean
    /** Back from an ejection, unproven: one call at a time. */
    readonly probation: boolean
    /** Its share of a full server's calls (slow start: from 0.1 up to 1). */
    readonly share: number
  }
  /** This pool's traffic to it. */
  readonly traffic: {
    /** Sequences (n per request) in flight. */
    readonly sequences: number
    readonly requests: number
    /** Short calls in flight (see SHORT_CALL_TOKENS). */
    readonly short: number
    /** Exponentially weighted latency of its successful calls, in ms (0: none yet). */
    readonly latencyMs: number
  }
  /** Its own fresh load report (/metrics); undefined when none is fresh. */
  readonly report: ServerLoad | undefined
  /** The load a new call would join: own sequences, others' running ones, its queue counted double. */
  readonly load: number
  /** What its last probe showed it is and can do; undefined until probed. */
  readonly profile: ServerProfile | undefined
}

/** One call to route. */
export interface RouteRequest {
  /** Servers this call tried already (it fails over to others first). */
  readonly tried: ReadonlySet<string>
  /** At most SHORT_CALL_TOKENS: done when its prefill is, so it weighs the short calls queued, not the batch. */
  readonly short: boolean
  /** Calls with the same key (one search) prefer the same server (its prefix cache). */
  readonly affinityKey?: string | undefined
  /** Numbers in [0, 1) for the pickers that draw. */
  readonly random: () => number
  /** The pool's count of calls so far (round-robin). */
  readonly turn: number
}

/** Keeps the servers a call may take; a filter never adds one. */
export type Filter = (views: ReadonlyArray<EndpointView>, request: RouteRequest) => ReadonlyArray<EndpointView>
/** Lower is better. */
export type Scorer = (view: EndpointView, request: RouteRequest) => number
/** Chooses one of the (non-empty) servers, given each one's scores in the policy's order. */
export type Picker = (
  scored: ReadonlyArray<{ readonly view: EndpointView; readonly scores: ReadonlyArray<number> }>,
  request: RouteRequest,
) => EndpointView

/** A routing policy: one small value. */
export interface RoutingPolicyDefinition {
  readonly name: string
  readonly filters: ReadonlyArray<Filter>
  readonly scorers: ReadonlyArray<Scorer>
  readonly picker: Picker
}

// --- filters -----------------------------------------------------------------------------------------------------

/** Up, not leaving, and not a server on probation that already has a call. */
export const eligibleServers: Filter = (views) =>
  views.filter(
    (view) => view.member.up && !view.member.leaving && !(view.member.probation && view.traffic.requests > 0),
  )

/** Not yet tried by this call. */
export const untried: Filter = (views, request) => views.filter((view) => !request.tried.has(view.url))

/** No queue over 5 and KV cache at most 80% full, by its fresh report (llm-d's saturation thresholds). */
export const unsaturated: Filter = (views) =>
  views.filter((view) => view.report === undefined || (view.report.waiting <= 5 && view.report.kvUsage <= 0.8))

/**
 * The servers all of `filters` keep; where none is left, those all but the last keep, and so on down to none
 * applied: a preference, never a refusal.
 */
export const preferring = (...filters: ReadonlyArray<Filter>): Filter => {
  // The longest prefix first, each made once rather than on every call.
  const prefixes = filters.map((_, i) => filters.slice(0, filters.length - i))
  return (views, request) => {
    for (const prefix of prefixes) {
      const narrowed = prefix.reduce((left, filter) => filter(left, request), views)
      if (narrowed.length > 0) return narrowed
    }
    return views
  }
}

// --- scorers -----------------------------------------------------------------------------------------------------

/** A short call: the fewest short calls in flight (slow start scales it); a long call scores every server alike. */
export const shortCallsScorer: Scorer = (view, request) =>
  request.short ? (view.traffic.short + 1) / view.member.share : 0
/** The load a new call joins (slow start scales it). */
export const loadScorer: Scorer = (view) => (view.load + 1) / view.member.share
export const kvCacheScorer: Scorer = (view) => view.report?.kvUsage ?? 0
export const latencyScorer: Scorer = (view) => view.traffic.latencyMs

// --- pickers -----------------------------------------------------------------------------------------------------

/** Compares score vectors, the first score first. */
export const compareScores = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  for (let i = 0; i < a.length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0)
    if (diff !== 0) return diff
  }
  return 0
}

/** The lowest scores; ties drawn at random, so equal servers share bursts instead of herding onto the first. */
export const lowest: Picker = (scored, request) => {
  const best = scored.reduce((min, entry) => (compareScores(entry.scores, min.scores) < 0 ? entry : min)).scores
  const tied = scored.filter((entry) => compareScores(entry.scores, best) === 0)
  return tied[Math.floor(request.random() * tied.length) % tied.length]!.view
}

/** The lower-scored of two drawn at random (power of two choices). */
export const twoChoices: Picker = (scored, request) => {
  const draw = () => scored[Math.floor(request.random() * scored.length) % scored.length]!
  const a = draw()
  const b = draw()
  return compareScores(b.scores, a.scores) < 0 ? b.view : a.view
}

/** The next in turn, whatever the scores. */
export const inTurn: Picker = (scored, request) => scored[request.turn % scored.length]!.view

// --- policies ----------------------------------------------------------------------------------------------------

const filters = [eligibleServers, preferring(untried, unsaturated)]
const scorers = [shortCallsScorer, loadScorer, kvCacheScorer, latencyScorer]

export const leastLoaded: RoutingPolicyDefinition = { name: "least-loaded", filters, scorers, picker: lowest }
export const powerOfTwo: RoutingPolicyDefinition = { name: "p2c", filters, scorers, picker: twoChoices }
export const roundRobin: RoutingPolicyDefinition = { name: "round-robin", filters, scorers: [], picker: inTurn }

/** The policies stagebeam brings, by name. */
export const BUILT_IN_POLICIES: ReadonlyArray<RoutingPolicyDefinition> = [leastLoaded, powerOfTwo, roundRobin]

/** The built-in policies and these, by name (a policy of the same name replaces the built-in one). */
export const routingPolicies = (
  ...more: ReadonlyArray<RoutingPolicyDefinition>
): ReadonlyMap<string, RoutingPolicyDefinition> =>
  new Map([...BUILT_IN_POLICIES, ...more].map((policy) => [policy.name, policy]))

/** Runs a policy: its filters, then its scorers over what is left, then its picker; undefined when nothing is left. */
export const route = (
  policy: RoutingPolicyDefinition,
  views: ReadonlyArray<EndpointView>,
  request: RouteRequest,
  /** Decides before the picker where it names a server (affinity); undefined leaves it to the picker. */
  before?: (kept: ReadonlyArray<EndpointView>) => EndpointView | undefined,
): EndpointView | undefined => {
  const kept = policy.filters.reduce((left, filter) => filter(left, request), views)
  if (kept.length === 0) return undefined
  const early = before?.(kept)
  if (early !== undefined) return early
  return policy.picker(
    kept.map((view) => ({ view, scores: policy.scorers.map((scorer) => scorer(view, request)) })),
    request,
  )
}
