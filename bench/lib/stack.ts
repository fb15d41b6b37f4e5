// The whole stack a benchmark drives: simulated vLLM servers, a gateway over them, and a gRPC client, all on
// 127.0.0.1 with random ports, all closed when the scope ends.
import { GatewaySettings, type SettingsInput, serveGateway } from "@stagebeam/gateway"
import { makeReasonerClient, type ReasonRequest, type ReasonResponse__Output } from "@stagebeam/proto"
import { type RunningSimulator, type SimulatorOptions, serveSimulator } from "@stagebeam/vllm-sim"
import { Duration, Effect, Layer } from "effect"

/** The benchmarks' simulated reward model: `count` servers serving "reward-model", scores noisy by `rewardNoise`. */
export const rewardModels = (count: number, speed: number, rewardNoise: number): ReadonlyArray<SimulatorOptions> =>
  Array.from({ length: count }, (_, i) => ({
    speed,
    seed: 30 + i,
    model: "reward-model",
    task: "reward" as const,
    rewardNoise,
  }))

export interface StackOptions {
  /** One entry per generator server. */
  readonly generators: ReadonlyArray<SimulatorOptions>
  /** One entry per server of a separate judge pool; none means the generator judges itself (the paper's setup). */
  readonly judges?: ReadonlyArray<SimulatorOptions>
  /** One entry per server of a `reward` pool (simulated reward models: give them `task: "reward"`). */
  readonly rewards?: ReadonlyArray<SimulatorOptions>
  readonly settings?: SettingsInput
  /** Deadline of each Reason call. */
  readonly deadline?: Duration.Input
}

export interface Stack {
  readonly generators: ReadonlyArray<RunningSimulator>
  readonly judges: ReadonlyArray<RunningSimulator>
  readonly rewards: ReadonlyArray<RunningSimulator>
  /** Every simulated server (generators, then judges, then reward models). */
  readonly servers: ReadonlyArray<RunningSimulator>
  readonly reason: (request: ReasonRequest) => Effect.Effect<ReasonResponse__Output, Error>
}

const startServers = (options: ReadonlyArray<SimulatorOptions>) =>
  Effect.forEach(options, (o) => serveSimulator({ ...o, host: "127.0.0.1", port: 0 }).pipe(Effect.orDie))

export const startStack = Effect.fnUntraced(function* (options: StackOptions) {
  const generators = yield* startServers(options.generators)
  const judges = yield* startServers(options.judges ?? [])
  const rewards = yield* startServers(options.rewards ?? [])
  // A pool serves what its servers serve.
  const modelOf = (servers: ReadonlyArray<RunningSimulator>) =>
    servers[0] === undefined || servers[0].model === generators[0]?.model ? {} : { model: servers[0].model }
  const settings = GatewaySettings.layer({
    grpc: { host: "127.0.0.1", port: 0 },
    metrics: { port: 0 },
    pools: {
      generator: { endpoints: generators.map((s) => s.url) },
      ...(judges.length > 0 ? { judge: { endpoints: judges.map((s) => s.url), ...modelOf(judges) } } : {}),
      ...(rewards.length > 0
        ? {
            reward: {
              endpoints: rewards.map((s) => s.url),
              ...modelOf(rewards),
              capabilities: { pooling: true, constrainedChoice: "none" },
            },
          }
        : {}),
    },
    defaultJudge: judges.length > 0 ? "model" : "self",
    ...options.settings,
  })
  const gateway = yield* serveGateway.pipe(Effect.provide(Layer.fresh(settings)), Effect.orDie)
  const client = yield* makeReasonerClient({
    address: gateway.address,
    defaultDeadline: options.deadline ?? Duration.minutes(5),
  }).pipe(Effect.orDie)
  const reason = (request: ReasonRequest): Effect.Effect<ReasonResponse__Output, Error> => client.Reason(request)
  return { generators, judges, rewards, servers: [...generators, ...judges, ...rewards], reason } satisfies Stack
})
