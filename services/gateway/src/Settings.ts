import { Config, Context, Duration, Effect, Layer, Schema } from "effect"

/** A comma-separated list of base URLs; blanks are dropped and trailing slashes and /v1 trimmed. */
const urlList = (name: string) =>
  Config.String(name).pipe(
    Config.withDefault(""),
    Config.map((raw) =>
      raw
        .split(",")
        .map((url) => url.trim().replace(/\/+$/, "").replace(/\/v1$/, ""))
        .filter((url) => url.length > 0),
    ),
  )

const positiveInt = (name: string, fallback: number) =>
  Config.schema(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)), name).pipe(Config.withDefault(fallback))

const duration = (name: string, fallback: Duration.Duration) => Config.Duration(name).pipe(Config.withDefault(fallback))

/** Every setting of the gateway, read from environment variables (the README's settings table lists them). */
export const settingsConfig = Config.all({
  grpcHost: Config.String("STAGEBEAM_GRPC_HOST").pipe(Config.withDefault("0.0.0.0")),
  grpcPort: Config.Port("STAGEBEAM_GRPC_PORT").pipe(Config.withDefault(50051)),
  metricsPort: Config.Port("STAGEBEAM_METRICS_PORT").pipe(Config.withDefault(9464)),
  endpoints: urlList("STAGEBEAM_ENDPOINTS"),
  model: Config.String("STAGEBEAM_MODEL").pipe(Config.withDefault("Xkev/Llama-3.2V-11B-cot")),
  judge: Config.Literals(["self", "model"], "STAGEBEAM_JUDGE").pipe(Config.withDefault("self" as const)),
  judgeEndpoints: urlList("STAGEBEAM_JUDGE_ENDPOINTS"),
  judgeModel: Config.String("STAGEBEAM_JUDGE_MODEL").pipe(Config.withDefault("")),
  upstreamTimeout: duration("STAGEBEAM_UPSTREAM_TIMEOUT", Duration.seconds(120)),
  upstreamAttempts: positiveInt("STAGEBEAM_UPSTREAM_ATTEMPTS", 3),
  healthInterval: duration("STAGEBEAM_HEALTH_INTERVAL", Duration.seconds(5)),
  metricsInterval: duration("STAGEBEAM_METRICS_INTERVAL", Duration.millis(500)),
  failureThreshold: positiveInt("STAGEBEAM_FAILURE_THRESHOLD", 3),
  cooldown: duration("STAGEBEAM_COOLDOWN", Duration.seconds(10)),
  maxRunningSequences: positiveInt("STAGEBEAM_MAX_RUNNING_SEQUENCES", 128),
  maxSamplesPerRequest: positiveInt("STAGEBEAM_MAX_SAMPLES_PER_REQUEST", 16),
  maxQueued: Config.Int("STAGEBEAM_MAX_QUEUED").pipe(Config.withDefault(128)),
  defaultDeadline: duration("STAGEBEAM_DEFAULT_DEADLINE", Duration.seconds(300)),
  maxImageBytes: positiveInt("STAGEBEAM_MAX_IMAGE_BYTES", 20 * 1024 * 1024),
  imageFetchTimeout: duration("STAGEBEAM_IMAGE_FETCH_TIMEOUT", Duration.seconds(10)),
  simServers: positiveInt("STAGEBEAM_SIM_SERVERS", 2),
  simSpeed: Config.Number("STAGEBEAM_SIM_SPEED").pipe(Config.withDefault(10)),
})

export interface Settings {
  readonly grpcHost: string
  readonly grpcPort: number
  readonly metricsPort: number
  readonly endpoints: ReadonlyArray<string>
  readonly model: string
  readonly judge: "self" | "model"
  readonly judgeEndpoints: ReadonlyArray<string>
  readonly judgeModel: string
  readonly upstreamTimeout: Duration.Duration
  readonly upstreamAttempts: number
  readonly healthInterval: Duration.Duration
  readonly metricsInterval: Duration.Duration
  readonly failureThreshold: number
  readonly cooldown: Duration.Duration
  readonly maxRunningSequences: number
  readonly maxSamplesPerRequest: number
  readonly maxQueued: number
  readonly defaultDeadline: Duration.Duration
  readonly maxImageBytes: number
  readonly imageFetchTimeout: Duration.Duration
  readonly simServers: number
  readonly simSpeed: number
}

export class GatewaySettings extends Context.Service<GatewaySettings, Settings>()("@stagebeam/gateway/Settings") {
  static readonly layer = Layer.effect(
    GatewaySettings,
    Effect.gen(function* () {
      return yield* settingsConfig
    }),
  )
  /** For tests: loopback on a random port over a fast embedded fleet, with `overrides` on top. */
  static readonly layerTest = (overrides: Partial<Settings> = {}) =>
    GatewaySettings.layerWith({
      grpcHost: "127.0.0.1",
      grpcPort: 0,
      metricsPort: 0,
      simServers: 2,
      simSpeed: 500,
      healthInterval: Duration.seconds(1),
      metricsInterval: Duration.millis(100),
      ...overrides,
    })
  /** The environment's settings with some replaced (tests, embedding). */
  static readonly layerWith = (overrides: Partial<Settings>) =>
    Layer.effect(
      GatewaySettings,
      Effect.gen(function* () {
        return { ...(yield* settingsConfig), ...overrides }
      }),
    )
}
