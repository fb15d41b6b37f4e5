import { lookup } from "node:dns/promises"
import { readFileSync } from "node:fs"
import { type Duration, Effect, Schema } from "effect"

/** Finding the servers of a pool failed this time (the pool keeps the servers it had). */
export class DiscoveryFailed extends Schema.TaggedError<DiscoveryFailed>()("DiscoveryFailed", {
  message: Schema.String,
}) {}

/** Where a pool's servers come from, and how often to look again. */
export interface Discovery {
  /** What the source says now: base URLs. */
  readonly find: Effect.Effect<ReadonlyArray<string>, DiscoveryFailed>
  readonly interval: Duration.Duration
  /** For logs: "dns vllm:8000", "file /etc/…". */
  readonly describe: string
}

const urlOf = (scheme: string, address: string, port: number) =>
  `${scheme}://${address.includes(":") ? `[${address}]` : address}:${port}`

/**
 * Every address a name resolves to, as one server each: a Kubernetes headless Service gives one address per ready
 * pod, so the pool follows the pods without a list to keep in step.
 */
export const dnsDiscovery = (options: {
  readonly name: string
  readonly port: number
  readonly scheme: "http" | "https"
  readonly interval: Duration.Duration
}): Discovery => ({
  find: Effect.tryPromise({
    try: () => lookup(options.name, { all: true }),
    catch: (error) =>
      new DiscoveryFailed({
        message: `cannot resolve ${options.name}: ${error instanceof Error ? error.message : String(error)}`,
      }),
  }).pipe(
    Effect.map((addresses) =>
      [...new Set(addresses.map((entry) => urlOf(options.scheme, entry.address, options.port)))].sort(),
    ),
  ),
  interval: options.interval,
  describe: `dns ${options.name}:${options.port}`,
})

/** One base URL a line (blank lines and `#` comments skipped), re-read on every look. */
export const fileDiscovery = (options: { readonly path: string; readonly interval: Duration.Duration }): Discovery => ({
  find: Effect.try({
    try: () =>
      readFileSync(options.path, "utf8")
        .split("\n")
        .map((line) => line.trim().replace(/\/+$/, "").replace(/\/v1$/, ""))
        .filter((line) => line !== "" && !line.startsWith("#")),
    catch: (error) =>
      new DiscoveryFailed({
        message: `cannot read ${options.path}: ${error instanceof Error ? error.message : String(error)}`,
      }),
  }).pipe(
    Effect.flatMap((urls) => {
      const bad = urls.find((url) => !/^https?:\/\/[^/\s]+$/.test(url))
      return bad === undefined
        ? Effect.succeed([...new Set(urls)].sort())
        : Effect.fail(new DiscoveryFailed({ message: `${options.path}: not a server URL: ${bad}` }))
    }),
  ),
  interval: options.interval,
  describe: `file ${options.path}`,
})
