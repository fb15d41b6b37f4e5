import { readFileSync } from "node:fs"
import { Config, Effect, Option } from "effect"
import { parse } from "yaml"
import { GatewayConfigError } from "../GatewayErrors.ts"
import { setAt } from "./Merge.ts"
import type { SettingsInput } from "./Settings.ts"

/** The file of settings, optional; the variables below override what it says. */
export const CONFIG_FILE_VARIABLE = "STAGEBEAM_CONFIG"

/** Each environment variable and the setting it overrides (the README's settings table lists them all). */
export const ENVIRONMENT: ReadonlyArray<{ readonly variable: string; readonly path: ReadonlyArray<string> }> = [
  { variable: "STAGEBEAM_GRPC_HOST", path: ["grpc", "host"] },
  { variable: "STAGEBEAM_GRPC_PORT", path: ["grpc", "port"] },
  { variable: "STAGEBEAM_HTTP_ENABLED", path: ["http", "enabled"] },
  { variable: "STAGEBEAM_HTTP_HOST", path: ["http", "host"] },
  { variable: "STAGEBEAM_HTTP_PORT", path: ["http", "port"] },
  { variable: "STAGEBEAM_HTTP_ALLOWED_HOSTS", path: ["http", "allowedHosts"] },
  { variable: "STAGEBEAM_METRICS_HOST", path: ["metrics", "host"] },
  { variable: "STAGEBEAM_METRICS_PORT", path: ["metrics", "port"] },
  { variable: "STAGEBEAM_TLS_CERT", path: ["tls", "cert"] },
  { variable: "STAGEBEAM_TLS_KEY", path: ["tls", "key"] },
  { variable: "STAGEBEAM_TLS_CLIENT_CA", path: ["tls", "clientCa"] },
  { variable: "STAGEBEAM_AUTH_TOKENS_FILE", path: ["auth", "tokensFile"] },
  { variable: "STAGEBEAM_LOG_LEVEL", path: ["log", "level"] },
  { variable: "STAGEBEAM_LOG_FORMAT", path: ["log", "format"] },
  { variable: "STAGEBEAM_OTLP_ENDPOINT", path: ["tracing", "endpoint"] },
  { variable: "STAGEBEAM_ENDPOINTS", path: ["pools", "generator", "endpoints"] },
  { variable: "STAGEBEAM_DISCOVERY_DNS", path: ["pools", "generator", "discovery", "dns"] },
  { variable: "STAGEBEAM_DISCOVERY_FILE", path: ["pools", "generator", "discovery", "file"] },
  { variable: "STAGEBEAM_MODEL", path: ["pools", "generator", "model"] },
  { variable: "STAGEBEAM_JUDGE", path: ["defaultJudge"] },
  { variable: "STAGEBEAM_JUDGE_ENDPOINTS", path: ["pools", "judge", "endpoints"] },
  { variable: "STAGEBEAM_JUDGE_MODEL", path: ["pools", "judge", "model"] },
  { variable: "STAGEBEAM_UPSTREAM_TIMEOUT", path: ["upstream", "timeout"] },
  { variable: "STAGEBEAM_UPSTREAM_ATTEMPTS", path: ["upstream", "attempts"] },
  { variable: "STAGEBEAM_HEALTH_INTERVAL", path: ["upstream", "healthInterval"] },
  { variable: "STAGEBEAM_METRICS_INTERVAL", path: ["upstream", "metricsInterval"] },
  { variable: "STAGEBEAM_FAILURE_THRESHOLD", path: ["upstream", "failureThreshold"] },
  { variable: "STAGEBEAM_COOLDOWN", path: ["upstream", "cooldown"] },
  { variable: "STAGEBEAM_MAX_SAMPLES_PER_REQUEST", path: ["upstream", "maxSamplesPerRequest"] },
  { variable: "STAGEBEAM_ROUTING", path: ["upstream", "routing"] },
  { variable: "STAGEBEAM_MAX_RUNNING_SEQUENCES", path: ["admission", "maxRunningSequences"] },
  { variable: "STAGEBEAM_MAX_QUEUED", path: ["admission", "maxQueued"] },
  { variable: "STAGEBEAM_ADMISSION_PEERS_DNS", path: ["admission", "peers", "dns"] },
  { variable: "STAGEBEAM_DEFAULT_DEADLINE", path: ["defaultDeadline"] },
  { variable: "STAGEBEAM_DRAIN_TIMEOUT", path: ["drainTimeout"] },
  { variable: "STAGEBEAM_MAX_IMAGE_BYTES", path: ["images", "maxBytes"] },
  { variable: "STAGEBEAM_IMAGE_FETCH_TIMEOUT", path: ["images", "fetchTimeout"] },
  { variable: "STAGEBEAM_MAX_IMAGE_PIXELS", path: ["images", "maxPixels"] },
  { variable: "STAGEBEAM_IMAGE_ALLOWED_NETWORKS", path: ["images", "allowedNetworks"] },
  { variable: "STAGEBEAM_SIM_SERVERS", path: ["simulator", "servers"] },
  { variable: "STAGEBEAM_SIM_SPEED", path: ["simulator", "speed"] },
]

/** Where a setting came from, for error messages: the variable that set it, or the file. */
export interface Origins {
  readonly file: string | undefined
  readonly variables: ReadonlyMap<string, string>
}

export const noOrigins: Origins = { file: undefined, variables: new Map() }

const readFile = (path: string) =>
  Effect.try({
    try: () => {
      const text = readFileSync(path, "utf8")
      const input: unknown = text.trim() === "" ? {} : parse(text)
      return input ?? {}
    },
    catch: (error) =>
      new GatewayConfigError({
        message: `cannot read ${CONFIG_FILE_VARIABLE}=${path}: ${error instanceof Error ? error.message : String(error)}`,
      }),
  })

/** A variable's value; unset and blank are the same. */
const variable = (name: string) =>
  Effect.gen(function* () {
    const value = yield* Config.option(Config.String(name))
    return Option.filter(value, (text) => text.trim() !== "")
  }).pipe(Effect.mapError(() => new GatewayConfigError({ message: `cannot read ${name}` })))

/**
 * The settings as the environment gives them: the YAML file named by STAGEBEAM_CONFIG (optional), then each
 * STAGEBEAM_* variable on top, all read through Effect's ConfigProvider. Nothing is checked here: the settings
 * schema decodes the result.
 */
export const readEnvironment = Effect.gen(function* () {
  const file = yield* variable(CONFIG_FILE_VARIABLE)
  let input: unknown = Option.isSome(file) ? yield* readFile(file.value) : {}
  const variables = new Map<string, string>()
  for (const entry of ENVIRONMENT) {
    const value = yield* variable(entry.variable)
    if (Option.isNone(value)) continue
    input = setAt(input, entry.path, value.value)
    variables.set(entry.path.join("."), entry.variable)
  }
  return { input: input as SettingsInput, origins: { file: Option.getOrUndefined(file), variables } satisfies Origins }
})
