// The state one simulated server shares between its HTTP handlers.
import type { Behaviour } from "./behaviour.ts"
import type { JudgeSettings } from "./content/judge.ts"
import type { Engine } from "./engine.ts"
import type { ErrorFormat } from "./errors.ts"
import type { FaultConfig } from "./faults.ts"
import type { RequestOutcomes } from "./metrics.ts"
import type { Profile } from "./profiles.ts"
import type { Rng } from "./random.ts"

/** What a served model does (vLLM's --task): generate text, or pool it as a reward model or a cross-encoder. */
export type Task = "generate" | "reward" | "score"

export interface SimContext {
  readonly profile: Profile
  /** Which kind of server this one answers like (request fields honoured, bodies, routes). */
  readonly behaviour: Behaviour
  /** `--api-key`: requests to the behaviour's guarded paths need `Authorization: Bearer <key>`. */
  readonly apiKey: string | undefined
  readonly model: string
  readonly speed: number
  readonly maxNumSeqs: number
  readonly judge: JudgeSettings
  /** What the model does: generate (chat), or pool as a reward model (/pooling) or a cross-encoder (/score). */
  readonly task: Task
  /** The reward model's per-text error, relative to its signal (see content/reward.ts). */
  readonly rewardNoise: number
  /** The reward model's pooler: ALL (a reward per token, vLLM's default for reward models) or LAST (one per input). */
  readonly poolingType: "ALL" | "LAST"
  readonly errorFormat: ErrorFormat
  readonly schedulingPolicy: "fcfs" | "priority"
  /** Optional cap on waiting requests (vLLM <= 0.10 has none); past it requests get 429. */
  readonly maxWaitingRequests: number | undefined
  readonly engine: Engine
  readonly outcomes: RequestOutcomes & { fault: number; rejected: number }
  readonly faultRng: Rng
  faults: FaultConfig
  /** performance.now() before which the server is still loading (503). */
  readyAtWall: number
  requestCounter: number
  /** Chat calls (HTTP requests, whatever their n) that reached the engine, and how they ended. */
  readonly calls: { submitted: number; finished: number; aborted: number }
  /** GET /metrics requests answered (a client's load polling, as a server's access log would show it). */
  metricsReads: number
  /** Requests that carried each ignored field, and the field sets already logged. */
  readonly ignoredFields: Map<string, number>
  readonly loggedIgnored: Set<string>
  /** The server's log (stderr for the CLI). */
  readonly log: (line: string) => void
  /** Total virtual ms of latency added by the latency/jitter faults. */
  faultLatencyMs: number
}
