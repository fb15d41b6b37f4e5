import { BOUNDS, SpeculationWidth, withDefault } from "@stagebeam/cot"
import { SPECULATION_WIDTH_DEFAULT } from "@stagebeam/search"
import { Duration, Schema } from "effect"
import {
  Count,
  DeclaredCapabilities,
  DurationText,
  HostNames,
  Networks,
  PerStepKind,
  Port,
  SecretSource,
  ServerUrl,
  ServerUrls,
  Switch,
} from "./Values.ts"

/**
 * Every setting of the gateway, with its default: the one schema that the configuration file, the environment
 * variables (see Environment.ts) and the tests' options all go through. The settings table (docs/settings.md) lists it.
 */

const DEFAULT_MODEL = "Xkev/Llama-3.2V-11B-cot"

/** A pool name: it appears in metrics, logs and request ids. */
const Name = Schema.String.check(Schema.isPattern(/^[a-z][a-z0-9_-]*$/, { message: "expected a lower-case name" }))

/** How the gateway calls the servers of a pool; each pool may set its own, else it takes `upstream`'s. */
const callFields = {
  /** Deadline of one HTTP call to a server. */
  timeout: DurationText,
  /** Tries of one call, failing over to another server on connection errors, timeouts, 429 and 5xx. */
  attempts: Count(1),
  /** How often each server's /health is probed. */
  healthInterval: DurationText,
  /** How often each server's /metrics is read for routing (reports older than 2 s are ignored). */
  metricsInterval: DurationText,
  /** Consecutive failed calls that take a server out of rotation for `cooldown`. */
  failureThreshold: Count(1),
  cooldown: DurationText,
  /** Most samples in one request (the servers' --max-num-seqs); a larger N is split into parallel requests. */
  maxSamplesPerRequest: Count(1),
  /** The least time a try gets before it counts as hung; each try's timeout follows the server's observed speed. */
  tryTimeoutFloor: DurationText,
  /** A server that joins a running pool gets its full share of calls only after this long. */
  slowStart: DurationText,
  /** How a call picks a server among the eligible ones. */
  routing: Schema.Literals(["least-loaded", "p2c", "round-robin"]),
  /** Retries (and hedges) may add at most this share of calls over 10 s (at least 20). */
  retryBudget: Schema.Union([Schema.Number, Schema.NumberFromString]).check(
    Schema.makeFilter((n: number) => (n >= 0 && n <= 10) || "expected a share of calls between 0 and 10"),
  ),
  /** Judge calls slower than 9 in 10 recent ones get a second try on another server; the first answer wins. */
  hedgeJudgeCalls: Switch,
  /** Keep one search's calls on one server (for servers with prefix caching)… */
  affinity: Switch,
  /** …unless it carries this many sequences more than the least-loaded server. */
  affinityMaxImbalance: Count(0),
}

/** Where a pool's servers come from while it runs: a DNS name (one server per address) or a file of URLs. */
const Discovery = Schema.Struct({
  /** "name:port", e.g. a Kubernetes headless Service "vllm.default.svc.cluster.local:8000". */
  dns: Schema.optional(
    Schema.String.check(Schema.isPattern(/^[A-Za-z0-9.-]+:\d{1,5}$/, { message: "expected name:port" })),
  ),
  /** A file with one base URL a line, read again on every look. */
  file: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  scheme: Schema.Literals(["http", "https"]).pipe(withDefault("http")),
  interval: DurationText.pipe(withDefault("10s")),
})
export type Discovery = typeof Discovery.Type

const Upstream = Schema.Struct({
  timeout: callFields.timeout.pipe(withDefault("120s")),
  attempts: callFields.attempts.pipe(withDefault(5)),
  healthInterval: callFields.healthInterval.pipe(withDefault("5s")),
  metricsInterval: callFields.metricsInterval.pipe(withDefault("500ms")),
  failureThreshold: callFields.failureThreshold.pipe(withDefault(3)),
  cooldown: callFields.cooldown.pipe(withDefault("10s")),
  maxSamplesPerRequest: callFields.maxSamplesPerRequest.pipe(withDefault(16)),
  tryTimeoutFloor: callFields.tryTimeoutFloor.pipe(withDefault("5s")),
  slowStart: callFields.slowStart.pipe(withDefault("30s")),
  routing: callFields.routing.pipe(withDefault("least-loaded")),
  retryBudget: callFields.retryBudget.pipe(withDefault(0.2)),
  hedgeJudgeCalls: callFields.hedgeJudgeCalls.pipe(withDefault(false)),
  affinity: callFields.affinity.pipe(withDefault(false)),
  affinityMaxImbalance: callFields.affinityMaxImbalance.pipe(withDefault(16)),
})
export type Upstream = typeof Upstream.Type

const Pool = Schema.Struct({
  endpoints: ServerUrls.pipe(withDefault([])),
  discovery: Schema.optional(Discovery),
  /** The model name sent to its servers; default: the generator pool's. */
  model: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
  apiKey: Schema.optional(SecretSource),
  /** What its servers can do, where the operator knows better than the probe (each key optional). */
  capabilities: Schema.optional(DeclaredCapabilities),
  timeout: Schema.optional(callFields.timeout),
  attempts: Schema.optional(callFields.attempts),
  healthInterval: Schema.optional(callFields.healthInterval),
  metricsInterval: Schema.optional(callFields.metricsInterval),
  failureThreshold: Schema.optional(callFields.failureThreshold),
  cooldown: Schema.optional(callFields.cooldown),
  maxSamplesPerRequest: Schema.optional(callFields.maxSamplesPerRequest),
  tryTimeoutFloor: Schema.optional(callFields.tryTimeoutFloor),
  slowStart: Schema.optional(callFields.slowStart),
  routing: Schema.optional(callFields.routing),
  retryBudget: Schema.optional(callFields.retryBudget),
  hedgeJudgeCalls: Schema.optional(callFields.hedgeJudgeCalls),
  affinity: Schema.optional(callFields.affinity),
  affinityMaxImbalance: Schema.optional(callFields.affinityMaxImbalance),
})
export type Pool = typeof Pool.Type

/**
 * A judge: its kind (a built-in one — pairwise, reward, cross-encoder, rating — or one the program registered; the
 * Judges layer checks the name), the pool that answers its calls, and the options its kind reads.
 */
const Judge = Schema.Struct({
  kind: Name,
  pool: Name,
  /** Pairwise: CHOICE verdicts where a request asks for them and the pool can constrain (default), or never. */
  verdicts: Schema.optional(Schema.Literals(["choice", "free_text"])),
  /** Whether the judge sees the image, per step kind (each optional; default: as the reference, every judge prompt). */
  images: Schema.optional(PerStepKind),
  /** Anything a custom kind reads of its own (the built-in kinds read none). */
  options: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
})
export type Judge = typeof Judge.Type

const Listener = (port: number) =>
  Schema.Struct({
    host: Schema.String.pipe(withDefault("0.0.0.0")),
    port: Port.pipe(withDefault(port)),
  })

const SettingsFields = Schema.Struct({
  grpc: Listener(50051).pipe(withDefault({})),
  /** The HTTP door: the OpenAI-compatible API, the search's events and the page that draws them. */
  http: Schema.Struct({
    enabled: Switch.pipe(withDefault(true)),
    host: Schema.String.pipe(withDefault("0.0.0.0")),
    port: Port.pipe(withDefault(8080)),
    /** Host names it answers to besides addresses and single-label names (against DNS rebinding). */
    allowedHosts: HostNames.pipe(withDefault([".localhost", ".svc", ".cluster.local"])),
  }).pipe(withDefault({})),
  metrics: Schema.Struct({
    host: Schema.String.pipe(withDefault("0.0.0.0")),
    port: Port.pipe(withDefault(9464)),
  }).pipe(withDefault({})),
  /** TLS on the gRPC and HTTP ports: certificate and key files (reloaded when they change), and a client CA for mTLS. */
  tls: Schema.optional(
    Schema.Struct({
      cert: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
      key: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
      clientCa: Schema.optional(Schema.String.check(Schema.isMinLength(1))),
    }),
  ),
  log: Schema.Struct({
    level: Schema.Literals(["trace", "debug", "info", "warning", "error", "none"]).pipe(withDefault("info")),
    /** "auto": JSON lines unless stdout is a terminal. */
    format: Schema.Literals(["auto", "json", "pretty"]).pipe(withDefault("auto")),
  }).pipe(withDefault({})),
  /** OTLP/HTTP trace export (e.g. http://otel-collector:4318); none = spans stay in the process. */
  tracing: Schema.Struct({
    endpoint: Schema.optional(ServerUrl),
    serviceName: Schema.String.pipe(withDefault("stagebeam-gateway")),
  }).pipe(withDefault({})),
  /** Bearer tokens: a file of `name:token` lines (reloaded when it changes); none = no authentication. */
  auth: Schema.optional(Schema.Struct({ tokensFile: Schema.optional(Schema.String.check(Schema.isMinLength(1))) })),
  /** Pools by name; `generator` runs the policy model and must list its servers (or a discovery). */
  pools: Schema.Record(Name, Pool).pipe(withDefault({})),
  upstream: Upstream.pipe(withDefault({})),
  /**
   * Judges by name. Without any: `self` (pairwise on the generator pool), `self-free-text` (the same, free-text
   * verdicts), `model` on the `judge` pool and `reward` on the `reward` pool when those exist.
   */
  judges: Schema.optional(Schema.Record(Name, Judge)),
  /** The judge of a request that names none. */
  defaultJudge: Name.pipe(withDefault("self")),
  admission: Schema.Struct({
    /** GPU sequences running searches may hold (a search holds N, GREEDY 1). */
    maxRunningSequences: Schema.Union([Schema.Literal("auto"), Count(1)]).pipe(withDefault("auto")),
    /** Calls waiting for admission; beyond it calls get RESOURCE_EXHAUSTED. */
    maxQueued: Count(0).pipe(withDefault(128)),
    /** Image bytes that calls, waiting or running, may hold together (a fetched image counts from its arrival). */
    maxHeldBytes: Count(1).pipe(withDefault(256 * 1024 * 1024)),
    /**
     * The gateway replicas that share the generator pool (a headless Service of the gateways, or a file): the
     * `auto` capacity is divided among them, so replicas together admit what the fleet can run.
     */
    peers: Schema.optional(Discovery),
  }).pipe(withDefault({})),
  /** How STAGE_BEAM schedules its calls (the answer is the same whatever these say). */
  search: Schema.Struct({
    /**
     * The next stage started for a stage's finalists (or, with a wider `speculationWidth`, more of its candidates)
     * while its tournament runs, the losers' calls aborted: "adaptive" only while the generator's servers have spare
     * sequences for the call, "always", or "off". A request's speculation overrides it.
     */
    speculation: Schema.Literals(["off", "adaptive", "always"]).pipe(withDefault("adaptive")),
    /** Sequences per generator server that adaptive speculation leaves free (a cap on the GPU time it may take). */
    speculationReserve: Count(0).pipe(withDefault(0)),
    /**
     * How early speculation starts for requests that do not say: on the candidates of the round with at most this
     * many left (2: the finalists; N or more: each candidate as its sample finishes).
     */
    speculationWidth: SpeculationWidth.pipe(withDefault(SPECULATION_WIDTH_DEFAULT)),
    /** Stragglers for requests that do not say (never for the REFERENCE preset unless a request asks). */
    stragglers: Switch.pipe(withDefault(false)),
  }).pipe(withDefault({})),
  /** On SIGTERM: how long calls in flight may take to finish (health says NOT_SERVING and new calls are refused at once). */
  drainTimeout: DurationText.pipe(withDefault("50s")),
  /** Time a search may take when the client sets no deadline (and the cap when it does). */
  defaultDeadline: DurationText.pipe(withDefault("300s")),
  images: Schema.Struct({
    maxBytes: Count(1).pipe(withDefault(20 * 1024 * 1024)),
    /** Largest image by pixels (width × height), checked in the header before anything is decoded. */
    maxPixels: Count(1).pipe(withDefault(40_000_000)),
    fetchTimeout: DurationText.pipe(withDefault("10s")),
    maxRedirects: Count(0).pipe(withDefault(3)),
    /** Networks an image URL may point into although they are not public (loopback, private, link-local…). */
    allowedNetworks: Networks.pipe(withDefault([])),
    /** Image fetches at once, and image decodes at once: two pools, so slow URLs never hold inline images back. */
    maxConcurrent: Count(1).pipe(withDefault(4)),
    /**
     * "mllama": scale an image the model's processor would scale down to that size once, here, in the decode pass
     * (a JPEG stays a JPEG, the rest become PNG); "off": send every image as it came.
     */
    prescale: Schema.Literals(["mllama", "off"]).pipe(withDefault("mllama")),
    /**
     * Images by reference, for fleets whose GPU servers can reach the gateway: each search's prepared image is served
     * at `url`/images/<token> (valid while its call runs) and the servers fetch it, instead of every request carrying
     * it inline. Off unless set; the gateway listens for these fetches on `host`:`port`.
     */
    reference: Schema.optional(
      Schema.Struct({
        url: Schema.String.check(
          Schema.isPattern(/^https?:\/\/[^/?#]+\/?$/, { message: "expected http(s)://host:port" }),
        ),
        host: Schema.String.pipe(withDefault("0.0.0.0")),
        port: Port.pipe(withDefault(8090)),
      }),
    ),
  }).pipe(withDefault({})),
})

/** The pool of the policy model: it must be declared (its endpoints or a discovery). */
export const GENERATOR_POOL = "generator"

/** The pool of the default reward judge, when declared. */
export const REWARD_POOL = "reward"

interface PoolsAndJudges {
  readonly judges?: Readonly<Record<string, Judge>> | undefined
  readonly pools: Readonly<Record<string, Pool>>
}

/** Every pool, the generator's first. */
export const poolsOf = (settings: PoolsAndJudges): ReadonlyArray<readonly [string, Pool]> => [
  [GENERATOR_POOL, settings.pools[GENERATOR_POOL] ?? { endpoints: [] }],
  ...Object.entries(settings.pools).filter(([name]) => name !== GENERATOR_POOL),
]

/** The judges in force: the declared ones, or the defaults described on `judges`. */
export const judgesOf = (settings: PoolsAndJudges): Readonly<Record<string, Judge>> => {
  if (settings.judges !== undefined) return settings.judges
  const pools = new Set(poolsOf(settings).map(([name]) => name))
  return {
    self: { kind: "pairwise", pool: GENERATOR_POOL },
    "self-free-text": { kind: "pairwise", pool: GENERATOR_POOL, verdicts: "free_text" },
    ...(pools.has("judge") ? { model: { kind: "pairwise", pool: "judge" } as const } : {}),
    ...(pools.has(REWARD_POOL) ? { reward: { kind: "reward", pool: REWARD_POOL } as const } : {}),
  }
}

/** Settings that cannot work together, each reported at the path to fix. */
const consistent = Schema.makeFilter((settings: typeof SettingsFields.Type) => {
  const problems: Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly issue: string }> = []
  const pools = poolsOf(settings).map(([name]) => name)
  for (const [name, pool] of poolsOf(settings)) {
    if (pool.endpoints.length === 0 && pool.discovery === undefined) {
      problems.push({
        path: ["pools", name, "endpoints"],
        issue:
          name === GENERATOR_POOL
            ? "the generator pool has no servers: list them (STAGEBEAM_ENDPOINTS) or give a discovery " +
              "(STAGEBEAM_DISCOVERY_DNS, STAGEBEAM_DISCOVERY_FILE); `npm start` runs simulated ones for development"
            : "must list at least one server (or a discovery)",
      })
    }
    const discovery = pool.discovery
    if (discovery !== undefined && (discovery.dns === undefined) === (discovery.file === undefined)) {
      problems.push({ path: ["pools", name, "discovery"], issue: "needs one of dns (name:port) or file" })
    }
  }
  const peers = settings.admission.peers
  if (peers !== undefined && (peers.dns === undefined) === (peers.file === undefined)) {
    problems.push({ path: ["admission", "peers"], issue: "needs one of dns (name:port) or file" })
  }
  const judges = judgesOf(settings)
  for (const [name, judge] of Object.entries(judges)) {
    if (!pools.includes(judge.pool)) {
      problems.push({
        path: ["judges", name, "pool"],
        issue: `names no declared pool (declared: ${pools.join(", ")})`,
      })
    }
  }
  if (!(settings.defaultJudge in judges)) {
    problems.push({
      path: ["defaultJudge"],
      issue: `names no declared judge (declared: ${Object.keys(judges).join(", ")})`,
    })
  }
  const tls = settings.tls
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
    problems.push({ path: ["tls"], issue: "needs both cert and key (or neither)" })
  }
  if (tls?.clientCa !== undefined && tls.cert === undefined) {
    problems.push({ path: ["tls", "clientCa"], issue: "needs tls.cert and tls.key: client certificates need TLS" })
  }
  if (settings.admission.maxHeldBytes < settings.images.maxBytes) {
    problems.push({ path: ["admission", "maxHeldBytes"], issue: "must be at least images.maxBytes" })
  }
  if (Duration.toMillis(settings.defaultDeadline) > BOUNDS.deadlineMs.maximum) {
    problems.push({ path: ["defaultDeadline"], issue: `must be at most ${BOUNDS.deadlineMs.maximum / 1000} seconds` })
  }
  return problems.length === 0 ? undefined : problems
})

export const Settings = SettingsFields.check(consistent)
export type Settings = typeof Settings.Type
/** The settings as a file (or a test) writes them: every field optional, numbers and durations also as text. */
export type SettingsInput = typeof Settings.Encoded

export { DEFAULT_MODEL }
