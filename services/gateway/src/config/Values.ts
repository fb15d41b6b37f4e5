import { StepKind } from "@stagebeam/cot"
import { ConstrainedChoice } from "@stagebeam/fleet"
import { Duration, Effect, Option, Predicate, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { isAddressOrNetwork } from "../images/AddressPolicy.ts"

/**
 * The value types of the configuration. A YAML file gives numbers as numbers and an environment variable gives them
 * as text: each type takes both, and every refusal says what was expected.
 */

/** An integer ≥ `minimum`, written as a number or as text. */
export const Count = (minimum: number) =>
  Schema.Union([Schema.Number, Schema.NumberFromString]).check(
    Schema.makeFilter((n: number) => Number.isInteger(n) || "expected a whole number"),
    Schema.makeFilter((n: number) => n >= minimum || `expected a whole number ≥ ${minimum}`),
  )

/** A positive number, written as a number or as text. */
export const Positive = Schema.Union([Schema.Number, Schema.NumberFromString]).check(
  Schema.makeFilter((n: number) => (Number.isFinite(n) && n > 0) || "expected a positive number"),
)

/** On or off: a YAML boolean, or the text `true`/`false` of an environment variable. */
export const Switch = Schema.Union([
  Schema.Boolean,
  Schema.Literals(["true", "false"]).pipe(
    Schema.decodeTo(
      Schema.Boolean,
      SchemaTransformation.transform({
        decode: (text) => text === "true",
        encode: (on) => (on ? "true" : "false"),
      }),
    ),
  ),
])

export const Port = Count(0).check(Schema.makeFilter((n: number) => n <= 65535 || "expected a port (0–65535)"))

const UNITS: Readonly<Record<string, (n: number) => Duration.Duration>> = {
  ms: Duration.millis,
  millis: Duration.millis,
  s: Duration.seconds,
  seconds: Duration.seconds,
  second: Duration.seconds,
  m: Duration.minutes,
  minutes: Duration.minutes,
  minute: Duration.minutes,
  h: Duration.hours,
  hours: Duration.hours,
  hour: Duration.hours,
}

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/
const EXPECTED_DURATION = 'expected a duration such as "500ms", "30s", "2m", "1h" or "30 seconds"'

/** Parses "30s", "500ms", "2m", "1h", or Effect's "30 seconds" / "500 millis". */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = DURATION.exec(text)
  const unit = match === null ? undefined : UNITS[match[2]!]
  return unit === undefined ? Option.none() : Option.some(unit(Number(match![1])))
}

/** A duration in the largest unit that writes it whole: "2m", "30s", "500ms". */
const formatDuration = (duration: Duration.Duration): string => {
  const ms = Duration.toMillis(duration)
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** A duration written as text with its unit. */
export const DurationText = Schema.String.pipe(
  Schema.decodeTo(
    Schema.Duration,
    SchemaTransformation.transformEffect({
      decode: (text) =>
        Option.match(parseDuration(text), {
          onNone: () => Effect.fail(new SchemaIssue.InvalidValue({ message: `${EXPECTED_DURATION}, got "${text}"` })),
          onSome: Effect.succeed,
        }),
      encode: (duration) => Effect.succeed(formatDuration(duration)),
    }),
  ),
)

/** A server's base URL: http(s), no credentials in it; a trailing slash or /v1 is dropped. */
export const ServerUrl = Schema.String.pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect({
      decode: (text) => {
        const trimmed = text.trim().replace(/\/+$/, "").replace(/\/v1$/, "")
        // A user or password in the text is never quoted back (the error reaches the log).
        const shown = text.replace(/\/\/[^/@]*@/, "//***@")
        const fail = (why: string) => Effect.fail(new SchemaIssue.InvalidValue({ message: `${why}, got "${shown}"` }))
        let url: URL
        try {
          url = new URL(trimmed)
        } catch {
          return fail("not a URL (expected e.g. http://gpu-1:8000)")
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") return fail("not an http(s) URL")
        if (url.username !== "" || url.password !== "") {
          return fail("has credentials in it (give the pool an apiKey instead)")
        }
        return Effect.succeed(trimmed)
      },
      encode: (text) => Effect.succeed(text),
    }),
  ),
)

/** A list: in YAML a list, in an environment variable comma-separated text (blanks dropped). */
const ListOf = <S extends Schema.Codec<string, string>>(item: S) =>
  Schema.Union([
    Schema.Array(item),
    Schema.String.pipe(
      Schema.decodeTo(
        Schema.Array(item),
        SchemaTransformation.transform<ReadonlyArray<string>, string>({
          decode: (text) =>
            text
              .split(",")
              .map((entry) => entry.trim())
              .filter((entry) => entry.length > 0),
          encode: (entries: ReadonlyArray<string>) => entries.join(","),
        }),
      ),
    ),
  ])

export const ServerUrls = ListOf(ServerUrl)

/** Networks as CIDRs (10.0.0.0/8, fd00::/8) or single addresses. */
export const Networks = ListOf(
  Schema.String.check(
    Schema.makeFilter(
      (text: string) => isAddressOrNetwork(text) || `expected an address or a CIDR network, got "${text}"`,
    ),
  ),
)

/**
 * Host names the HTTP door answers to: a name, ".name" (the name and every name under it) or "*" (any). IP
 * addresses and single-label names are always answered (see http/BrowserGuard.ts).
 */
export const HostNames = ListOf(
  Schema.String.check(
    Schema.makeFilter(
      (text: string) =>
        /^(\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)$/.test(text) ||
        `expected a host name, ".name" or "*", got "${text.slice(0, 100)}"`,
    ),
  ),
)

export type SecretSource = { readonly env: string } | { readonly file: string }

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/

/** An API key is never written in the settings: they name the environment variable or the file that holds it. */
export const SecretSource = Schema.declare<SecretSource>(
  (input): input is SecretSource =>
    Predicate.isObject(input) &&
    Object.keys(input).length === 1 &&
    ((Predicate.hasProperty(input, "env") && Predicate.isString(input.env) && VARIABLE.test(input.env)) ||
      (Predicate.hasProperty(input, "file") && Predicate.isString(input.file) && input.file.length > 0)),
  { expected: "{ env: VARIABLE } or { file: /path/to/key } (never the key itself)" },
)

const CapabilityFields = Schema.Struct({
  n: Schema.optional(Schema.Boolean),
  stop: Schema.optional(Schema.Boolean),
  continuation: Schema.optional(Schema.Boolean),
  usage: Schema.optional(Schema.Boolean),
  logprobs: Schema.optional(Schema.Boolean),
  constrainedChoice: Schema.optional(ConstrainedChoice),
  priority: Schema.optional(Schema.Boolean),
  images: Schema.optional(Schema.Boolean),
  pooling: Schema.optional(Schema.Boolean),
  score: Schema.optional(Schema.Boolean),
  maxContext: Schema.optional(Schema.Int.check(Schema.isGreaterThan(0))),
})

const CAPABILITY_KEYS: ReadonlyArray<string> = Object.keys(CapabilityFields.fields)

/**
 * What a pool's servers can do, as the operator knows it: each key optional (the rest is probed). Unlike the other
 * settings an unknown key is refused, since a misspelt capability would silently be probed instead.
 */
export const DeclaredCapabilities = Schema.Record(Schema.String, Schema.Unknown)
  .check(
    Schema.makeFilter((input: Readonly<Record<string, unknown>>) => {
      const unknown = Object.keys(input).filter((key) => !CAPABILITY_KEYS.includes(key))
      return unknown.length === 0 || `unknown capability ${unknown.join(", ")} (known: ${CAPABILITY_KEYS.join(", ")})`
    }),
  )
  .pipe(
    Schema.decodeTo(
      CapabilityFields,
      SchemaTransformation.transform({
        decode: (input) => input as typeof CapabilityFields.Encoded,
        encode: (capabilities) => capabilities as Readonly<Record<string, unknown>>,
      }),
    ),
  )

const STEP_KINDS: ReadonlyArray<string> = StepKind.literals

/** Per step kind, a flag (`{ REASONING: false }`): each key optional, an unknown one refused naming the known ones. */
export const PerStepKind = Schema.Record(Schema.String, Schema.Boolean).check(
  Schema.makeFilter((input: Readonly<Record<string, boolean>>) => {
    const unknown = Object.keys(input).filter((key) => !STEP_KINDS.includes(key))
    return unknown.length === 0 || `unknown step kind ${unknown.join(", ")} (known: ${STEP_KINDS.join(", ")})`
  }),
)
