import { Effect, Layer, Logger, type LogLevel, References } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import type { Settings } from "./config/Settings.ts"

const LEVELS: Readonly<Record<Settings["log"]["level"], LogLevel.LogLevel>> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warning: "Warn",
  error: "Error",
  none: "None",
}

/** JSON lines for log collectors, unless a person is reading a terminal. */
const loggerOf = (format: Settings["log"]["format"]) =>
  format === "json" || (format === "auto" && !process.stdout.isTTY) ? Logger.consoleJson : Logger.consolePretty()

/**
 * Where the gateway's logs and spans go: the logger and level of the settings, and, with a tracing endpoint, every
 * span (call, step, round, match, upstream call) exported over OTLP/HTTP. Without one the tracer is off: spans that
 * nobody reads were made, timed and annotated on every upstream call (issue #24), and no `traceparent` goes upstream.
 */
export const observabilityLayer = Layer.unwrap(
  Effect.gen(function* () {
    const { log, tracing } = yield* GatewaySettings
    const logging = Layer.merge(
      Logger.layer([loggerOf(log.format)]),
      Layer.succeed(References.MinimumLogLevel, LEVELS[log.level]),
    )
    if (tracing.endpoint === undefined) return Layer.merge(logging, Layer.succeed(References.TracerEnabled, false))
    const exporter = OtlpTracer.layer({
      url: `${tracing.endpoint}/v1/traces`,
      resource: { serviceName: tracing.serviceName },
    }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))
    return Layer.merge(logging, exporter)
  }),
)
