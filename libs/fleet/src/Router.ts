import { STALE_AFTER_MS } from "./LoadReports.ts"
import { initialHealth, isUp, type ServerHealth } from "./Membership.ts"
import type { ServerProfile } from "./Probe.ts"
import {
  type EndpointView,
  eligibleServers,
  type RouteRequest,
  type RoutingPolicyDefinition,
  route,
  routingPolicies,
} from "./Routing.ts"
import type { ServerLoad } from "./ServerLoad.ts"

/** Everything routing weighs about one server: its health, this pool's traffic to it, and its own load report. */
export interface EndpointState extends ServerHealth {
  readonly url: string
  /** Sequences (n per request) this pool has in flight on the server. */
  readonly inFlight: number
  /** Requests this pool has in flight on the server. */
  readonly inFlightRequests: number
  /** Short ones among them (see SHORT_CALL_TOKENS). */
  readonly inFlightShort: number
  /** Exponentially weighted latency of its successful calls, in ms (0 = none yet). */
  readonly latencyMs: number
  /** The server's own last report of its load (/metrics), and when it was read (Clock millis). */
  readonly reported: ServerLoad | undefined
  readonly reportedAtMs: number
  /** This pool's sequences in flight on the server when that report was read: the report's share that was ours. */
  readonly ownAtReport: number
  /** Clock millis when it joined a running pool (its slow start counts from there); 0 for a starting member. */
  readonly joinedAtMs: number
  /** Removed from discovery: it finishes its calls and takes no new ones. */
  readonly leaving: boolean
  /** Back from an ejection but not yet proven: it gets one call at a time until one succeeds (half-open). */
  readonly probation: boolean
}

export const initialState = (url: string): EndpointState => ({
  url,
  ...initialHealth,
  inFlight: 0,
  inFlightRequests: 0,
  inFlightShort: 0,
  latencyMs: 0,
  reported: undefined,
  reportedAtMs: 0,
  ownAtReport: 0,
  joinedAtMs: 0,
  leaving: false,
  probation: false,
})

/** How a call picks among the servers that may take it: a built-in policy, or one of `policies` by name. */
export type RoutingPolicy = "least-loaded" | "p2c" | "round-robin" | (string & {})

export interface RoutingOptions {
  readonly policy: RoutingPolicy
  /** The policies `policy` may name (default: the built-in ones; see routingPolicies to add one). */
  readonly policies?: ReadonlyMap<string, RoutingPolicyDefinition> | undefined
  /** A server that joined a running pool gets its full share of calls only after this long (0: at once). */
  readonly slowStartMs: number
  /**
   * Calls with the same affinity key (one search) go to the same server, whose prefix cache holds their image and
   * question, unless it carries more than this many sequences over the least-loaded one. Undefined: no affinity.
   */
  readonly affinityMaxImbalance?: number | undefined
}

export const defaultRouting: RoutingOptions = { policy: "least-loaded", slowStartMs: 0 }

/** FNV-1a of a text with murmur3's final mix (FNV alone spreads similar texts unevenly): a (key, server) weight. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  return (hash ^ (hash >>> 16)) >>> 0
}

/** The server's report where it is fresh (isFresh), read from the state without making a LoadReport of it. */
const freshLoad = (state: EndpointState, now: number): ServerLoad | undefined =>
  state.reported !== undefined && now - state.reportedAtMs <= STALE_AFTER_MS ? state.reported : undefined

/**
 * The load a new call would join: this pool's own sequences in flight now, plus what the server reported beyond
 * this pool's own requests at the time of the report (other gateway replicas' running requests), with its waiting
 * queue counted double as vLLM has no admission control of its own. Comparing the report with the own count of
 * the same moment keeps an old report from counting this pool's since-finished calls as someone else's.
 */
export const loadScore = (state: EndpointState, now: number): number => {
  const report = freshLoad(state, now)
  if (report === undefined) return state.inFlight
  const foreignRunning = Math.max(0, report.running - state.ownAtReport)
  return state.inFlight + foreignRunning + 2 * report.waiting
}

/** A server whose fresh report shows a queue or a nearly full KV cache (llm-d's saturation thresholds). */
export const isSaturated = (state: EndpointState, now: number): boolean => {
  const report = freshLoad(state, now)
  return report !== undefined && (report.waiting > 5 || report.kvUsage > 0.8)
}

/** The share of a full server's calls a server in its slow start may take: from a tenth up to all of it. */
export const capacityShare = (state: EndpointState, now: number, slowStartMs: number): number =>
  state.joinedAtMs === 0 || slowStartMs <= 0 ? 1 : Math.min(1, Math.max(0.1, (now - state.joinedAtMs) / slowStartMs))

/**
 * Sequences the servers a call may go to could start now without queueing: on each, its max_num_seqs less the load a
 * new call would join (loadScore) and less `reserve`, summed. Zero on a busy fleet: what must not cost it throughput
 * (speculation) asks this first.
 */
export const spareSequences = (
  states: ReadonlyArray<EndpointState>,
  now: number,
  maxSequences: number,
  reserve = 0,
): number =>
  eligible(states, now).reduce(
    (sum, state) => sum + Math.max(0, maxSequences - reserve - Math.ceil(loadScore(state, now))),
    0,
  )

/** Servers a call may go to now: up, not leaving, and not a server on probation that already has a call. */
export const eligible = (states: ReadonlyArray<EndpointState>, now: number): ReadonlyArray<EndpointState> => {
  const urls = new Set(
    eligibleServers(
      states.map((state) => viewOf(state, now, 0)),
      { tried: new Set(), short: false, random: () => 0, turn: 0 },
    ).map((view) => view.url),
  )
  return states.filter((state) => urls.has(state.url))
}

/** What routing sees of a server now (see EndpointView). */
export const viewOf = (
  state: EndpointState,
  now: number,
  slowStartMs: number,
  profile: ServerProfile | undefined = undefined,
): EndpointView => ({
  url: state.url,
  member: {
    up: isUp(state, now),
    leaving: state.leaving,
    probation: state.probation,
    share: capacityShare(state, now, slowStartMs),
  },
  traffic: {
    sequences: state.inFlight,
    requests: state.inFlightRequests,
    short: state.inFlightShort,
    latencyMs: state.latencyMs,
  },
  report: freshLoad(state, now),
  load: loadScore(state, now),
  profile,
})

/**
 * A call of at most this many tokens (a CHOICE verdict, a score) is short: it is done when its prefill is, so it
 * waits on the prefills queued before it (vLLM's V0 engine runs them one step at a time, not beside decoding) rather
 * than on the batch size. Short calls go first to the server with the fewest short calls in flight, which spreads a
 * round's verdicts over the servers instead of queueing them on the least-loaded one.
 */
export const SHORT_CALL_TOKENS = 16

const BUILT_IN = routingPolicies()

/** The policy `routing` names; a name nobody registered is a defect (the settings check the built-in ones). */
export const policyOf = (routing: RoutingOptions): RoutingPolicyDefinition => {
  const policies = routing.policies ?? BUILT_IN
  const policy = policies.get(routing.policy)
  if (policy === undefined) {
    throw new Error(`routing policy "${routing.policy}" is not known (known: ${[...policies.keys()].join(", ")})`)
  }
  return policy
}

/**
 * The server a key belongs to among `kept` by rendezvous hashing (highest weight wins), so a key keeps its server
 * while others join or leave; undefined when that server is more than `maxImbalance` busier than the least-loaded.
 */
const affinityOwner = (kept: ReadonlyArray<EndpointView>, key: string, maxImbalance: number) => {
  const owner = kept.reduce<EndpointView | undefined>(
    (best, view) => (best === undefined || fnv1a(key + view.url) > fnv1a(key + best.url) ? view : best),
    undefined,
  )
  if (owner === undefined) return undefined
  const least = Math.min(...kept.map((view) => view.load))
  return owner.load - least > maxImbalance ? undefined : owner
}

/**
 * Picks a server for one call by the routing policy (Routing.ts: filters → scorers → picker). The built-in ones keep
 * the eligible servers, those not yet tried by this call and not saturated first; a call with an affinity key goes
 * to its key's server among them where routing has affinity and that server is not too much busier than the rest
 * (see `affinityOwner`). Then:
 * - least-loaded: the lowest load score (slow start scales it up), ties broken by KV-cache usage, then latency,
 *   then at random, so equal servers share bursts instead of herding onto the first;
 * - p2c: the lower-scored of two drawn at random (power of two choices);
 * - round-robin: the next in turn, ignoring load.
 */
export const pickView = (
  views: ReadonlyArray<EndpointView>,
  request: RouteRequest,
  routing: RoutingOptions = defaultRouting,
): EndpointView | undefined => {
  const key = request.affinityKey
  const maxImbalance = routing.affinityMaxImbalance
  return route(
    policyOf(routing),
    views,
    request,
    key === undefined || maxImbalance === undefined ? undefined : (kept) => affinityOwner(kept, key, maxImbalance),
  )
}

/**
 * `pickView` over flat states (what `Pool.snapshot` shows): `random` gives numbers in [0, 1); `turn` counts the
 * pool's calls (round-robin); `short`: a short call (SHORT_CALL_TOKENS), the fewest short calls in flight first.
 */
export const pickEndpoint = (
  states: ReadonlyArray<EndpointState>,
  now: number,
  exclude: ReadonlySet<string>,
  random: () => number,
  routing: RoutingOptions = defaultRouting,
  turn = 0,
  affinityKey?: string,
  short = false,
): EndpointState | undefined => {
  const picked = pickView(
    states.map((state) => viewOf(state, now, routing.slowStartMs)),
    { tried: exclude, short, affinityKey, random, turn },
    routing,
  )
  return picked === undefined ? undefined : states.find((state) => state.url === picked.url)
}
