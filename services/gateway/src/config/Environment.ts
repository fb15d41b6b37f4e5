import { readFileSync } from "node:fs"
import { Config, ConfigProvider, Effect, Option } from "effect"
import { parse } from "yaml"
import { GatewayConfigError } from "../GatewayErrors.ts"
import { setAt } from "./Merge.ts"
import { leafPaths, nearest } from "./SchemaKeys.ts"
import { Settings, type SettingsInput } from "./Settings.ts"

/** The file of settings, optional; the variables below override what it says. */
export const CONFIG_FILE_VARIABLE = "STAGEBEAM_CONFIG"

/** `speculationReserve` → `SPECULATION_RESERVE`. */
const constantCase = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()

/**
 * Shorter names that settings kept from before they were derived (the README, compose and the manifests use them),
 * and the variables of pools, whose names are the operator's (records have no fixed keys to derive a name from).
 */
const NAMED: ReadonlyArray<{ readonly variable: string; readonly path: ReadonlyArray<string> }> = [
  { variable: "STAGEBEAM_OTLP_ENDPOINT", path: ["tracing", "endpoint"] },
  { variable: "STAGEBEAM_ENDPOINTS", path: ["pools", "generator", "endpoints"] },
  { variable: "STAGEBEAM_DISCOVERY_DNS", path: ["pools", "generator", "discovery", "dns"] },
  { variable: "STAGEBEAM_DISCOVERY_FILE", path: ["pools", "generator", "discovery", "file"] },
  { variable: "STAGEBEAM_MODEL", path: ["pools", "generator", "model"] },
  { variable: "STAGEBEAM_JUDGE", path: ["defaultJudge"] },
  { variable: "STAGEBEAM_JUDGE_ENDPOINTS", path: ["pools", "judge", "endpoints"] },
  { variable: "STAGEBEAM_JUDGE_MODEL", path: ["pools", "judge", "model"] },
  { variable: "STAGEBEAM_HEALTH_INTERVAL", path: ["upstream", "healthInterval"] },
  { variable: "STAGEBEAM_METRICS_INTERVAL", path: ["upstream", "metricsInterval"] },
  { variable: "STAGEBEAM_FAILURE_THRESHOLD", path: ["upstream", "failureThreshold"] },
  { variable: "STAGEBEAM_COOLDOWN", path: ["upstream", "cooldown"] },
  { variable: "STAGEBEAM_MAX_SAMPLES_PER_REQUEST", path: ["upstream", "maxSamplesPerRequest"] },
  { variable: "STAGEBEAM_ROUTING", path: ["upstream", "routing"] },
  { variable: "STAGEBEAM_MAX_RUNNING_SEQUENCES", path: ["admission", "maxRunningSequences"] },
  { variable: "STAGEBEAM_MAX_QUEUED", path: ["admission", "maxQueued"] },
  { variable: "STAGEBEAM_MAX_IMAGE_BYTES", path: ["images", "maxBytes"] },
  { variable: "STAGEBEAM_IMAGE_FETCH_TIMEOUT", path: ["images", "fetchTimeout"] },
  { variable: "STAGEBEAM_MAX_IMAGE_PIXELS", path: ["images", "maxPixels"] },
  { variable: "STAGEBEAM_IMAGE_ALLOWED_NETWORKS", path: ["images", "allowedNetworks"] },
]

/**
 * Each environment variable and the setting it overrides: one per leaf of the settings schema (`upstream.timeout`
 * is STAGEBEAM_UPSTREAM_TIMEOUT), under its shorter name where it has one, and the pools' named ones. A key added
 * to the schema gets its variable here with nothing else to change; the settings table (docs/settings.md) lists them all.
 */
export const ENVIRONMENT: ReadonlyArray<{ readonly variable: string; readonly path: ReadonlyArray<string> }> = [
  ...leafPaths(Settings.ast).map((path) => ({
    variable:
      NAMED.find((named) => named.path.join(".") === path.join("."))?.variable ??
      `STAGEBEAM_${path.map(constantCase).join("_")}`,
    path,
  })),
  ...NAMED.filter((named) => named.path[0] === "pools"),
]

/** Variables of the STAGEBEAM_ family that other programs read (the CLI, the development entry), not the settings. */
export const OTHER_VARIABLES: ReadonlySet<string> = new Set([
  CONFIG_FILE_VARIABLE,
  "STAGEBEAM_TOKEN",
  "STAGEBEAM_SIM_SERVERS",
  "STAGEBEAM_SIM_SPEED",
  "STAGEBEAM_SIM_REWARD_SERVERS",
])

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

/** Every variable set under a prefix (`STAGEBEAM`), by walking the ConfigProvider's tree of `_`-separated names. */
const variablesUnder = (path: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const provider = yield* ConfigProvider.ConfigProvider
    const node = yield* provider.load(path).pipe(Effect.orElseSucceed(() => undefined))
    if (node === undefined) return []
    const own = node._tag === "Value" || (node._tag === "Record" && node.value !== undefined) ? [path.join("_")] : []
    if (node._tag !== "Record") return own
    const inner = yield* Effect.forEach([...node.keys], (key) => variablesUnder([...path, key]))
    return [...own, ...inner.flat()]
  })

/**
 * STAGEBEAM_* variables that no setting reads, each with the nearest known name: a misspelt variable would
 * otherwise leave its setting at the default with no sign.
 */
export const unknownVariables = Effect.gen(function* () {
  const known = [...ENVIRONMENT.map((entry) => entry.variable), ...OTHER_VARIABLES]
  const set = yield* variablesUnder(["STAGEBEAM"])
  return set
    .filter((name) => !known.includes(name))
    .map((name) => {
      const suggestion = nearest(name, known)
      return `${name} is not a setting's variable${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}`
    })
})

/**
 * The settings as the environment gives them: the YAML file named by STAGEBEAM_CONFIG (optional), then each
 * STAGEBEAM_* variable on top, all read through Effect's ConfigProvider. Nothing is checked here: the settings
 * schema decodes the result.
 */
export const readEnvironment = (fileOverride?: string) =>
  Effect.gen(function* () {
    const file = fileOverride === undefined ? yield* variable(CONFIG_FILE_VARIABLE) : Option.some(fileOverride)
    let input: unknown = Option.isSome(file) ? yield* readFile(file.value) : {}
    const variables = new Map<string, string>()
    for (const entry of ENVIRONMENT) {
      const value = yield* variable(entry.variable)
      if (Option.isNone(value)) continue
      input = setAt(input, entry.path, value.value)
      variables.set(entry.path.join("."), entry.variable)
    }
    return {
      input: input as SettingsInput,
      origins: { file: Option.getOrUndefined(file), variables } satisfies Origins,
    }
  })
