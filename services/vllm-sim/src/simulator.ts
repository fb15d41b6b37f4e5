// Starting, crashing, restarting and closing one simulated vLLM server, in-process.
import type { AddressInfo } from "node:net"
import { Effect, Schema, type Scope } from "effect"
import { type Behaviour, type BehaviourName, resolveBehaviour } from "./behaviour.ts"
import { DEFAULT_JUDGE_NOISE } from "./content/judge.ts"
import type { SimContext } from "./context.ts"
import { makeEngine, type RequestRecord } from "./engine.ts"
import type { ErrorFormat } from "./errors.ts"
import type { FaultConfig } from "./faults.ts"
import { renderMetrics } from "./metrics.ts"
import type { Task } from "./pooling.ts"
import { defaultProfileName, type Profile, profiles } from "./profiles.ts"
import { makeRng } from "./random.ts"
import { byRequest, latestRequest } from "./records.ts"
import { makeHttpServer, type SimStats, simStats } from "./server.ts"

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly host?: string
  /** Profile name (see `profiles`), default llama-3.2-11b-vision-h100. */
  readonly profile?: string
  /** Which kind of server to answer like (default vllm-0.10); independent of the performance profile. */
  readonly behaviour?: BehaviourName
  /** Field overrides on top of the named behaviour (e.g. vLLM that ignores stop strings, for a test). */
  readonly behaviourOverrides?: Partial<Omit<Behaviour, "name">>
  /** vLLM's --api-key: the behaviour's guarded routes answer 401 without `Authorization: Bearer <key>`. */
  readonly apiKey?: string
  /** Field overrides on top of the named profile (e.g. a smaller KV cache for a test). */
  readonly profileOverrides?: Partial<Omit<Profile, "name">>
  /** Time scale: every modelled duration is divided by it (1 = real time). */
  readonly speed?: number
  /** Served model name, default Xkev/Llama-3.2V-11B-cot. */
  readonly model?: string
  /** Overrides the profile's max_num_seqs. */
  readonly maxNumSeqs?: number
  /**
   * The fixed-accuracy judge: it prefers the better response with this probability, whatever the two (its logprobs
   * then say the same for every pair, so a constrained verdict's most likely answer is always right). Given, it
   * replaces the default graded judge (judgeNoise).
   */
  readonly judgeAccuracy?: number
  /** In [-1, 1]; positive favours response 1, negative response 2 (default: the content model's, from MT-Bench). */
  readonly positionBias?: number
  /**
   * The graded judge (content/judge.ts, the default): each text's perceived merit carries a Gaussian error of this
   * size fixed per text (default: the calibrated content model's, content/model.ts judgeNoise).
   */
  readonly judgeNoise?: number
  /** vLLM's --task: "generate" (default), "reward" (/pooling) or "score" (a cross-encoder, /score). */
  readonly task?: Task
  /** The reward model's or cross-encoder's per-text error relative to its signal (default 0.5). */
  readonly rewardNoise?: number
  /** The reward model's pooler (default ALL, vLLM's for reward models: a reward per token, the last one the sequence's). */
  readonly poolingType?: "ALL" | "LAST"
  /** Error body form: "nested" (vLLM >= 0.10.1) or "flat" (older vLLM, SGLang); default: the behaviour's. */
  readonly errorFormat?: ErrorFormat
  readonly faults?: FaultConfig
  /** Seeds the fault dice (content is seeded per request by its `seed`). */
  readonly seed?: number
  /** vLLM --scheduling-policy; requests with priority != 0 are refused under "fcfs" (default), as vLLM does. */
  readonly schedulingPolicy?: "fcfs" | "priority"
  /** Optional cap on the waiting queue (vLLM <= 0.10 has none); beyond it requests get 429. */
  readonly maxWaitingRequests?: number
  /** Where the server's warnings go (default: stderr), e.g. the fields a request carried that it ignored. */
  readonly log?: (line: string) => void
}

export interface CrashOptions {
  /** Listen again on the same port after this many virtual ms; never when omitted. */
  readonly restartAfterMs?: number
  /** After the restart, /health answers 503 for this many virtual ms. */
  readonly slowStartMs?: number
}

export interface RunningSimulator {
  /** Base URL, e.g. http://127.0.0.1:8001; the OpenAI base URL is `${url}/v1`. */
  readonly url: string
  readonly port: number
  readonly host: string
  readonly model: string
  readonly profile: Profile
  readonly behaviour: Behaviour
  readonly close: () => Promise<void>
  /** Replace the fault configuration (also PUT /sim/faults; POST merges, DELETE clears). */
  readonly setFaults: (faults: FaultConfig) => void
  /** Merge into the fault configuration. */
  readonly updateFaults: (patch: FaultConfig) => void
  readonly faults: () => FaultConfig
  /** Drop every connection and stop listening (also POST /sim/crash); optionally come back later. */
  readonly crash: (options?: CrashOptions) => Promise<void>
  /** Cost and load counters (also GET /sim/stats). */
  readonly stats: () => SimStats
  /** The engine's record of a finished or aborted request, by its X-Request-Id. */
  readonly requestRecord: (requestId: string) => RequestRecord | undefined
  /** The engine's records of the most recent finished or aborted requests, oldest first. */
  readonly requestRecords: () => ReadonlyArray<RequestRecord>
  /** The Prometheus text of /metrics. */
  readonly metricsText: () => string
}

export class SimulatorStartError extends Schema.TaggedError<SimulatorStartError>()("SimulatorStartError", {
  message: Schema.String,
}) {}

export const resolveProfile = (options: SimulatorOptions): Profile => {
  const name = options.profile ?? defaultProfileName
  const base = profiles.get(name)
  if (base === undefined) throw new Error(`unknown profile "${name}"; known: ${[...profiles.keys()].join(", ")}`)
  return { ...base, ...options.profileOverrides, name }
}

export const startSimulator = async (options: SimulatorOptions = {}): Promise<RunningSimulator> => {
  const behaviour = { ...resolveBehaviour(options.behaviour), ...options.behaviourOverrides }
  const configured = resolveProfile(options)
  // Prefix caching is the engine's (V1, SGLang's radix cache), whatever GPU it runs on.
  const profile =
    behaviour.prefixCaching === undefined ? configured : { ...configured, prefixCaching: behaviour.prefixCaching }
  const speed = options.speed ?? 1
  if (!(speed > 0)) throw new Error(`speed must be positive, got ${speed}`)
  const maxNumSeqs = options.maxNumSeqs ?? profile.maxNumSeqs
  const host = options.host ?? "127.0.0.1"
  const faults = options.faults ?? {}
  const ctx: SimContext = {
    profile,
    behaviour,
    apiKey: options.apiKey,
    model: options.model ?? "Xkev/Llama-3.2V-11B-cot",
    speed,
    maxNumSeqs,
    judge: {
      accuracy: options.judgeAccuracy ?? 0.8,
      positionBias: options.positionBias,
      // A judge accuracy given (and no noise) asks for the fixed-accuracy judge.
      ...(options.judgeNoise === undefined && options.judgeAccuracy !== undefined
        ? {}
        : { noise: options.judgeNoise ?? DEFAULT_JUDGE_NOISE }),
    },
    task: options.task ?? "generate",
    rewardNoise: options.rewardNoise ?? 0.5,
    poolingType: options.poolingType ?? "ALL",
    errorFormat: options.errorFormat ?? behaviour.errorFormat,
    schedulingPolicy: options.schedulingPolicy ?? "fcfs",
    maxWaitingRequests: options.maxWaitingRequests,
    engine: makeEngine({ profile, maxNumSeqs, speed, schedulingPolicy: options.schedulingPolicy ?? "fcfs" }),
    outcomes: { stop: 0, length: 0, abort: 0, error: 0, fault: 0, rejected: 0 },
    faultRng: makeRng(options.seed ?? Math.floor(Math.random() * 2 ** 32)),
    faults,
    readyAtWall: performance.now() + (faults.slowStartMs ?? 0) / speed,
    requestCounter: 0,
    faultLatencyMs: 0,
    calls: { submitted: 0, finished: 0, aborted: 0 },
    metricsReads: 0,
    ignoredFields: new Map(),
    loggedIgnored: new Set(),
    log: options.log ?? ((line) => console.warn(line)),
  }
  const setFaults = (next: FaultConfig) => {
    // A newly set slow start begins now: the server reloads.
    if (next.slowStartMs !== undefined && next.slowStartMs !== ctx.faults.slowStartMs)
      ctx.readyAtWall = performance.now() + next.slowStartMs / speed
    ctx.faults = next
  }
  let restartTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      http.server.once("error", reject)
      http.server.listen(port, host, () => {
        http.server.off("error", reject)
        resolve((http.server.address() as AddressInfo).port)
      })
    })
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const s of http.sockets) s.destroy()
      if (!http.server.listening) return resolve()
      http.server.close(() => resolve())
    })
  const crash = async (crashOptions: CrashOptions = {}) => {
    await stopListening()
    if (crashOptions.restartAfterMs !== undefined && !closed) {
      restartTimer = setTimeout(() => {
        restartTimer = undefined
        if (closed) return
        ctx.readyAtWall = performance.now() + (crashOptions.slowStartMs ?? 0) / speed
        listen(port).catch(() => undefined)
      }, crashOptions.restartAfterMs / speed)
    }
  }
  const http = makeHttpServer(ctx, {
    setFaults,
    crash: (restartAfterMs) => void crash(restartAfterMs === undefined ? {} : { restartAfterMs }),
  })
  const port = await listen(options.port ?? 0)
  return {
    url: `http://${host}:${port}`,
    port,
    host,
    model: ctx.model,
    profile,
    behaviour,
    close: async () => {
      closed = true
      if (restartTimer !== undefined) clearTimeout(restartTimer)
      await stopListening()
      ctx.engine.close()
    },
    setFaults,
    updateFaults: (patch) => setFaults({ ...ctx.faults, ...patch }),
    faults: () => ctx.faults,
    crash,
    stats: () => simStats(ctx),
    requestRecord: (requestId) => latestRequest(ctx.engine.stats.recent, `chatcmpl-${requestId}#`),
    requestRecords: () => byRequest(ctx.engine.stats.recent),
    metricsText: () => renderMetrics(ctx.engine, ctx.model, ctx.outcomes, behaviour.metrics),
  }
}

/** The Effect twin of startSimulator: the server closes when the scope ends. */
export const serveSimulator = (
  options: SimulatorOptions = {},
): Effect.Effect<RunningSimulator, SimulatorStartError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startSimulator(options),
      catch: (e) => new SimulatorStartError({ message: e instanceof Error ? e.message : String(e) }),
    }),
    (sim) => Effect.promise(() => sim.close()),
  )
