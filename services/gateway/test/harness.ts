import { type ChildProcess, spawn } from "node:child_process"
import { createServer as createHttpServer } from "node:http"
import { createRequire } from "node:module"
import { type AddressInfo, createServer } from "node:net"
import { dirname, join } from "node:path"
import { loadProto, makeClient } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, makeReasonerClient, reasonerServiceName } from "@stagebeam/proto"
import { type RunningSimulator, type SimulatorOptions, serveSimulator } from "@stagebeam/vllm-sim"
import { Duration, Effect, Layer } from "effect"
import sharp from "sharp"
import { mergeInput } from "../src/config/Merge.ts"
import { GatewaySettings, type TestSettingsInput } from "../src/dev/TestSettings.ts"
import { serveGateway } from "../src/Gateway.ts"

const require = createRequire(import.meta.url)

/**
 * A gateway over its embedded simulated fleet (or the settings given), a typed client for it and an untyped one
 * (for requests the proto's types would not allow); all live as long as the test's scope.
 */
export const startGateway = (settings: TestSettingsInput = {}) =>
  Effect.gen(function* () {
    const gateway = yield* serveGateway
    const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "60 seconds" })
    const raw = yield* makeClient({
      address: gateway.address,
      packageDefinition: loadReasonerPackageDefinition(),
      service: reasonerServiceName,
      defaultDeadline: "60 seconds",
    })
    return { gateway, client, raw }
  }).pipe(Effect.provide(Layer.fresh(GatewaySettings.layerTest(settings))))

/** A small real PNG. */
export const pngImage = (width = 64, height = 48) =>
  Effect.promise(() =>
    sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toBuffer(),
  )

/** Simulated servers started by the test itself, so it can read their counters and inject faults. */
/** A PNG of noise (it does not compress): 300×300 is ~270 kB, its data URL ~360 kB. */
export const noisePng = (width = 300, height = 300) =>
  Effect.promise(() =>
    sharp({
      create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 60 } },
    })
      .png()
      .toBuffer(),
  )

export const startSimulators = (count: number, options: Omit<SimulatorOptions, "port" | "host"> = {}) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) => serveSimulator({ port: 0, host: "127.0.0.1", speed: 500, seed: i + 1, ...options }).pipe(Effect.orDie),
  )

/** Base URLs of the servers, as the settings list endpoints. */
export const urlsOf = (servers: ReadonlyArray<RunningSimulator>) => servers.map((server) => server.url)

/** A gateway whose generator pool is the given servers. */
export const startGatewayOver = (servers: ReadonlyArray<RunningSimulator>, settings: TestSettingsInput = {}) =>
  startGateway(mergeInput<TestSettingsInput>({ pools: { generator: { endpoints: urlsOf(servers) } } }, settings))

/** The value of one series of the gateway's /metrics (its labels include `labels`), if it is there. */
export const seriesValue = (text: string, name: string, labels: string) =>
  new RegExp(`^${name}(?:\\{[^}]*${labels}[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]

/** The gateway's `stagebeam_admission_held_bytes` gauge (-1 when it is not there). */
export const heldBytes = (metricsUrl: string) =>
  Effect.promise(() =>
    fetch(metricsUrl)
      .then((response) => response.text())
      .then((text) => Number(/^stagebeam_admission_held_bytes(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? -1)),
  )

/** An OpenAI chat completions body asking `question` about the image at `url` (a data: URL, say). */
export const chatBodyWithImage = (question: string, url: string) =>
  JSON.stringify({
    model: "Xkev/Llama-3.2V-11B-cot",
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: question },
          { type: "image_url", image_url: { url } },
        ],
      },
    ],
  })

/** Polls `check` every 20 ms until it holds, for at most `attempts` tries (a bounded loop, not a timing assertion). */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, attempts = 250) =>
  Effect.gen(function* () {
    for (let i = 0; i < attempts; i++) {
      if (yield* check) return true
      yield* Effect.sleep(Duration.millis(20))
    }
    return false
  })

const healthProto = join(dirname(require.resolve("grpc-health-check/package.json")), "proto/health/v1/health.proto")

/** grpc.health.v1 Check of `service` on the gateway. */
export const healthOf = (address: string, service: string) =>
  Effect.gen(function* () {
    const client = yield* makeClient({
      address,
      packageDefinition: yield* loadProto(healthProto),
      service: "grpc.health.v1.Health",
    })
    const reply = yield* client.unary<{ service: string }, { status: string }>("Check", { service })
    return reply.status
  }).pipe(Effect.scoped)

/** A port free on 127.0.0.1 right now. */
export const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The gateway as a real process (`node src/main.ts`), with only the settings given; killed with the scope. */
export const startGatewayProcess = (settings: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.callback<{
      readonly child: ChildProcess
      readonly exited: Promise<number | null>
      readonly output: () => string
    }>((resume) => {
      // The test's own environment may hold STAGEBEAM_* variables: the child gets none but these.
      const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("STAGEBEAM_")))
      const child = spawn(process.execPath, ["--conditions=@stagebeam/source", "src/main.ts"], {
        cwd: `${import.meta.dirname}/..`,
        env: { ...env, ...settings },
      })
      let output = ""
      const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
      const ready = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes("stagebeam gateway listening")) {
          child.stdout?.off("data", ready)
          resume(Effect.succeed({ child, exited, output: () => output }))
        }
      }
      child.stdout?.on("data", ready)
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString()
      })
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString()
      })
      child.on("exit", (code) =>
        resume(Effect.die(new Error(`the gateway exited (${code}) before it listened: ${output}`))),
      )
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL")),
  )

/**
 * The gateway as a real process over `servers` (its generator pool), every door on 127.0.0.1 and a free port, with
 * a gRPC client; default settings otherwise, and `extra` (STAGEBEAM_* variables).
 */
export const startGatewayProcessOver = (
  servers: ReadonlyArray<{ readonly url: string }>,
  extra: Record<string, string> = {},
) =>
  Effect.gen(function* () {
    const port = yield* freePort
    const httpPort = yield* freePort
    const metricsPort = yield* freePort
    const process = yield* startGatewayProcess({
      STAGEBEAM_ENDPOINTS: servers.map((server) => server.url).join(","),
      STAGEBEAM_GRPC_HOST: "127.0.0.1",
      STAGEBEAM_GRPC_PORT: String(port),
      STAGEBEAM_HTTP_HOST: "127.0.0.1",
      STAGEBEAM_HTTP_PORT: String(httpPort),
      STAGEBEAM_METRICS_HOST: "127.0.0.1",
      STAGEBEAM_METRICS_PORT: String(metricsPort),
      ...extra,
    })
    const client = yield* makeReasonerClient({ address: `127.0.0.1:${port}`, defaultDeadline: "60 seconds" })
    return {
      process,
      client,
      http: `http://127.0.0.1:${httpPort}`,
      metrics: `http://127.0.0.1:${metricsPort}`,
    }
  })

/** What a recording proxy saw of each request: its path and the headers stagebeam sets. */
export interface ProxiedRequest {
  readonly path: string
  readonly requestId: string | undefined
  readonly traceparent: string | undefined
  /** The request's body as sent. */
  readonly body: Buffer
}

/**
 * A loopback HTTP proxy in front of `target` that records the headers of every request: how a test sees what a GPU
 * server is sent, without the simulator having to record it.
 */
export const recordingProxy = (target: string) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly seen: Array<ProxiedRequest>; readonly close: () => void }>(
      (resume) => {
        const seen: Array<ProxiedRequest> = []
        const server = createHttpServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const header = (name: string) => {
              const value = request.headers[name]
              return Array.isArray(value) ? value[0] : value
            }
            seen.push({
              path: request.url ?? "",
              requestId: header("x-request-id"),
              traceparent: header("traceparent"),
              body: Buffer.concat(chunks),
            })
            const headers = Object.fromEntries(
              Object.entries(request.headers).filter(
                (entry): entry is [string, string] => typeof entry[1] === "string" && entry[0] !== "host",
              ),
            )
            fetch(`${target}${request.url ?? ""}`, {
              method: request.method ?? "GET",
              headers,
              ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
            }).then(
              async (upstream) => {
                response.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "" })
                response.end(Buffer.from(await upstream.arrayBuffer()))
              },
              () => response.writeHead(502).end(),
            )
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resume(
            Effect.succeed({
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              seen,
              close: () => server.close(),
            }),
          ),
        )
      },
    ),
    (proxy) => Effect.sync(proxy.close),
  )
