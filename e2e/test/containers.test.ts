import { execFile, execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect, Schema } from "effect"
import sharp from "sharp"
import { GenericContainer, type StartedTestContainer, Wait } from "testcontainers"
import { finder, render } from "./kustomize.ts"

// The images are built by setup-docker.sh (pretest); nothing can be pulled here, so no reaper image either:
// every container is stopped and removed by its scope.
process.env.TESTCONTAINERS_RYUK_DISABLED = "true"
/** The images deploy/build-image.sh makes, tagged with the gateway's package version. */
const version = JSON.parse(
  readFileSync(new URL("../../services/gateway/package.json", import.meta.url), "utf8"),
).version
const image = process.env.STAGEBEAM_IMAGE ?? `stagebeam/gateway:${version}`
const simulatorImage = process.env.STAGEBEAM_SIMULATOR_IMAGE ?? `stagebeam/vllm-sim:${version}`
const setupStatus = process.env.DOCKER_SETUP_STATUS ?? "/tmp/stagebeam-docker-setup.txt"
const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"

/** Fails, saying why, when there is no Docker engine or no app image: the test must not pass or skip silently. */
const requireDocker = Effect.sync(() => {
  const why = existsSync(setupStatus) ? ` (pretest: ${readFileSync(setupStatus, "utf8").trim()})` : ""
  try {
    execFileSync("docker", ["image", "inspect", image, simulatorImage], { stdio: "ignore", timeout: 20_000 })
  } catch {
    throw new Error(
      `Docker with the images ${image}, ${simulatorImage} is needed: run e2e/setup-docker.sh as root${why}`,
    )
  }
})

/** A port free on 127.0.0.1 right now: containers share the host's network, so each needs its own. */
const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * A container of the app image on the host network, ready once `readyLine` is logged; stopped and removed with its
 * scope. If it exits before that, the error carries what it printed.
 */
const startContainer = (
  configure: (container: GenericContainer) => GenericContainer,
  readyLine: string,
  from: string = image,
) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => {
        const output: Array<string> = []
        return configure(new GenericContainer(from))
          .withNetworkMode("host")
          .withLogConsumer((stream) => stream.on("data", (line) => output.push(String(line))))
          .withWaitStrategy(Wait.forLogMessage(readyLine))
          .withStartupTimeout(60_000)
          .start()
          .catch((error: unknown) => {
            throw new Error(`${error instanceof Error ? error.message : String(error)}; it printed: ${output.join("")}`)
          })
      },
      catch: (error) => (error instanceof Error ? error : new Error(String(error))),
    }),
    (container) => Effect.promise(() => container.stop({ timeout: 2_000 })).pipe(Effect.ignore),
  )

/** A simulator container on a free port (a port taken in the meantime by another process gets one more try). */
const startSimulator = Effect.fnUntraced(function* () {
  const attempt = Effect.flatMap(freePort, (port) =>
    Effect.map(
      startContainer(
        (container) =>
          container
            .withEntrypoint(["node"])
            .withCommand(["services/vllm-sim/bin/vllm-sim.js", "--port", String(port), "--speed", "50"]),
        `vllm-sim listening on http://127.0.0.1:${port}`,
        simulatorImage,
      ),
      (container) => ({ container, port }),
    ),
  )
  return yield* attempt.pipe(Effect.retry({ times: 1, while: (error) => error.message.includes("EADDRINUSE") }))
})

const SimStats = Schema.Struct({ requests: Schema.Struct({ finished: Schema.Number }) })

/** Chat completions a simulator has finished (its /sim/stats), read over the host network. */
const finishedOn = (port: number) =>
  Effect.promise(async () => {
    const response = await fetch(`http://127.0.0.1:${port}/sim/stats`, { signal: AbortSignal.timeout(5_000) })
    return Schema.decodeUnknownSync(SimStats)(await response.json()).requests.finished
  })

const stop = (container: StartedTestContainer) => Effect.promise(() => container.stop({ timeout: 2_000 }))

describe("the app image in containers", () => {
  it.live(
    "a gateway container over two simulator containers answers Reason, and fails over when one stops",
    () =>
      Effect.gen(function* () {
        yield* requireDocker
        const [{ container: simA, port: simPortA }, { port: simPortB }] = yield* Effect.all(
          [startSimulator(), startSimulator()],
          { concurrency: "unbounded" },
        )
        const [grpcPort, metricsPort, httpPort] = yield* Effect.all([freePort, freePort, freePort])
        yield* startContainer(
          (container) =>
            container.withEnvironment({
              STAGEBEAM_ENDPOINTS: `http://127.0.0.1:${simPortA},http://127.0.0.1:${simPortB}`,
              STAGEBEAM_GRPC_HOST: "127.0.0.1",
              STAGEBEAM_GRPC_PORT: String(grpcPort),
              STAGEBEAM_METRICS_PORT: String(metricsPort),
              STAGEBEAM_HTTP_HOST: "127.0.0.1",
              STAGEBEAM_HTTP_PORT: String(httpPort),
            }),
          `stagebeam gateway listening on 127.0.0.1:${grpcPort}`,
        )
        const client = yield* makeReasonerClient({ address: `127.0.0.1:${grpcPort}`, defaultDeadline: "60 seconds" })
        const data = yield* Effect.promise(() =>
          sharp({ create: { width: 64, height: 48, channels: 3, background: "#3366cc" } })
            .png()
            .toBuffer(),
        )
        const reason = client.Reason({
          question: QUESTION,
          image: { data },
          includeStages: true,
          search: { candidatesPerStage: 2 },
        })

        // Three calls in parallel: the least-loaded routing spreads their upstream calls over both servers.
        const answers = yield* Effect.all([reason, reason, reason], { concurrency: "unbounded" })
        for (const answer of answers) {
          assert.isAbove(answer.conclusion.length, 0)
          assert.deepStrictEqual(
            answer.stages.map((stage) => stage.name),
            ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
          )
        }
        assert.isAbove(yield* finishedOn(simPortA), 0)
        const servedByB = yield* finishedOn(simPortB)
        assert.isAbove(servedByB, 0)

        // One GPU server goes away: every call still succeeds, on the one left.
        yield* stop(simA)
        for (let call = 0; call < 3; call++) {
          const answer = yield* reason
          assert.isAbove(answer.conclusion.length, 0)
          assert.strictEqual(answer.stages.length, 4)
        }
        assert.isAbove(yield* finishedOn(simPortB), servedByB)
      }),
    180_000,
  )

  it.live(
    "the cpu-demo overlay's pods as rendered: its simulator command serves, and the gateway finds it by DNS",
    () =>
      Effect.gen(function* () {
        yield* requireDocker
        const find = finder(render("cpu-demo"))
        const server = find("StatefulSet", "vllm").spec.template.spec.containers[0]
        const gatewayPod = find("Deployment", "stagebeam-gateway").spec.template.spec.containers[0]
        const config: Record<string, string> = find("ConfigMap", gatewayPod.envFrom[0].configMapRef.name).data
        // The pods' own ports and addresses, moved to free ports on 127.0.0.1 (host network); nothing else changed.
        const hostArgs = (args: ReadonlyArray<string>, port: number) =>
          args.map((arg, i) => (args[i - 1] === "--port" ? String(port) : args[i - 1] === "--host" ? "127.0.0.1" : arg))
        const simPort = yield* freePort
        yield* startContainer(
          (container) =>
            container
              .withEntrypoint([server.command[0]])
              .withCommand([...server.command.slice(1), ...hostArgs(server.args, simPort)]),
          `vllm-sim listening on http://127.0.0.1:${simPort}`,
          simulatorImage,
        )
        const [grpcPort, metricsPort, httpPort] = yield* Effect.all([freePort, freePort, freePort])
        const [, servicePort] = config.STAGEBEAM_DISCOVERY_DNS!.split(":")
        assert.strictEqual(servicePort, server.args[server.args.indexOf("--port") + 1])
        yield* startContainer(
          (container) =>
            container.withEnvironment({
              ...config,
              // In the cluster the Secrets (tokens, the vLLM key) and the settings file are mounted; here none is.
              STAGEBEAM_AUTH_TOKENS_FILE: "",
              STAGEBEAM_CONFIG: "",
              // In the cluster "vllm" names the pods; here "localhost" names the one simulator.
              STAGEBEAM_DISCOVERY_DNS: `localhost:${simPort}`,
              STAGEBEAM_GRPC_HOST: "127.0.0.1",
              STAGEBEAM_GRPC_PORT: String(grpcPort),
              STAGEBEAM_METRICS_HOST: "127.0.0.1",
              STAGEBEAM_METRICS_PORT: String(metricsPort),
              STAGEBEAM_HTTP_HOST: "127.0.0.1",
              STAGEBEAM_HTTP_PORT: String(httpPort),
            }),
          `stagebeam gateway listening on 127.0.0.1:${grpcPort}`,
        )
        const client = yield* makeReasonerClient({ address: `127.0.0.1:${grpcPort}`, defaultDeadline: "60 seconds" })
        const data = yield* Effect.promise(() =>
          sharp({ create: { width: 32, height: 32, channels: 3, background: "#cc3366" } })
            .png()
            .toBuffer(),
        )
        const answer = yield* client.Reason({
          question: QUESTION,
          image: { data },
          includeStages: true,
          search: { candidatesPerStage: 2 },
        })
        assert.isAbove(answer.conclusion.length, 0)
        assert.strictEqual(answer.stages.length, 4)
        assert.isAbove(yield* finishedOn(simPort), 0)
      }),
    120_000,
  )

  it.live(
    "the production image never simulates: without endpoints the gateway stops at start, naming what is missing",
    () =>
      Effect.gen(function* () {
        yield* requireDocker
        const port = yield* freePort
        const run = yield* Effect.promise(() =>
          promisify(execFile)(
            "docker",
            ["run", "--rm", "--network", "host", "-e", `STAGEBEAM_GRPC_PORT=${port}`, image],
            { timeout: 60_000 },
          ).then(
            () => ({ code: 0, output: "" }),
            (error: { code?: number; stdout?: string; stderr?: string }) => ({
              code: error.code ?? -1,
              output: `${error.stdout ?? ""}${error.stderr ?? ""}`,
            }),
          ),
        )
        assert.strictEqual(run.code, 2, run.output)
        assert.include(run.output, "pools.generator.endpoints: the generator pool has no servers")
        assert.include(run.output, "STAGEBEAM_ENDPOINTS")
      }),
    90_000,
  )
})
