import { assert, describe, it } from "@effect/vitest"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect, Fiber } from "effect"
import { eventually, freePort, healthOf, pngImage, startGatewayProcess, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown?\nA. circle\nB. square"

describe("SIGTERM", () => {
  it.live(
    "drains both doors at once: NOT_SERVING and new calls refused (gRPC and HTTP), calls in flight all answered, exit code 0",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1, { speed: 4 })
        const port = yield* freePort
        const httpPort = yield* freePort
        const metricsPort = yield* freePort
        const gateway = yield* startGatewayProcess({
          STAGEBEAM_ENDPOINTS: servers[0]!.url,
          STAGEBEAM_GRPC_HOST: "127.0.0.1",
          STAGEBEAM_GRPC_PORT: String(port),
          STAGEBEAM_METRICS_HOST: "127.0.0.1",
          STAGEBEAM_METRICS_PORT: String(metricsPort),
          STAGEBEAM_HTTP_HOST: "127.0.0.1",
          STAGEBEAM_HTTP_PORT: String(httpPort),
          STAGEBEAM_DRAIN_TIMEOUT: "60s",
        })
        const address = `127.0.0.1:${port}`
        const client = yield* makeReasonerClient({ address, defaultDeadline: "90 seconds" })
        const data = yield* pngImage()
        const request = { question: QUESTION, image: { data }, search: { candidatesPerStage: 2 } }
        const chat = () =>
          Effect.promise(() =>
            fetch(`http://127.0.0.1:${httpPort}/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                model: "Xkev/Llama-3.2V-11B-cot",
                messages: [{ role: "user", content: QUESTION }],
                stagebeam: { candidates: 2 },
              }),
            }).then(async (response) => ({ status: response.status, body: await response.text() })),
          )
        let done = 0
        const counted = <A, E>(call: Effect.Effect<A, E>) =>
          Effect.ensuring(
            call,
            Effect.sync(() => done++),
          )
        const calls = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(counted(client.Reason(request))))
        const httpCall = yield* Effect.forkChild(counted(chat()))
        // All four calls admitted (2 sequences each, while running) before the signal: a call still on its way when
        // it lands would be refused, not drained. (The servers' running count cannot tell: a search also speculates.)
        const held = Effect.promise(() =>
          fetch(`http://127.0.0.1:${metricsPort}/metrics`)
            .then((response) => response.text())
            .then((text) => Number(/^stagebeam_admission_sequences(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? -1))
            .catch(() => -1),
        )
        assert.isTrue(yield* eventually(Effect.map(held, (sequences) => sequences + 2 * done === 8)))

        gateway.child.kill("SIGTERM")
        assert.isTrue(
          yield* eventually(Effect.map(healthOf(address, "stagebeam.v1.Reasoner"), (s) => s === "NOT_SERVING")),
        )
        const refused = yield* Effect.flip(client.Reason(request))
        assert.strictEqual(refused.code, 14)
        assert.include(refused.message, "shutting down")
        // The HTTP door refuses new calls at once too, while the gRPC calls still drain.
        const refusedHttp = yield* chat()
        assert.strictEqual(refusedHttp.status, 503, refusedHttp.body)
        assert.include(refusedHttp.body, "shutting down")

        const answers = yield* Effect.forEach(calls, Fiber.join)
        for (const answer of answers) assert.isAbove(answer.conclusion.length, 0)
        const answeredHttp = yield* Fiber.join(httpCall)
        assert.strictEqual(answeredHttp.status, 200, answeredHttp.body)
        assert.strictEqual(yield* Effect.promise(() => gateway.exited), 0)
        assert.include(gateway.output(), "gRPC server draining")
        assert.include(gateway.output(), "gateway draining")
      }),
    120_000,
  )

  it.live(
    "health stays NOT_SERVING for the whole drain, gRPC and HTTP /ready, past many rounds of the readiness loop",
    () =>
      Effect.gen(function* () {
        // Half speed: the call must outlast the 5 s drain (at speed 1 a faster gateway once answered in 4.9 s).
        const servers = yield* startSimulators(1, { speed: 0.5 })
        const port = yield* freePort
        const httpPort = yield* freePort
        const gateway = yield* startGatewayProcess({
          STAGEBEAM_ENDPOINTS: servers[0]!.url,
          STAGEBEAM_GRPC_HOST: "127.0.0.1",
          STAGEBEAM_GRPC_PORT: String(port),
          STAGEBEAM_METRICS_PORT: "0",
          STAGEBEAM_HTTP_HOST: "127.0.0.1",
          STAGEBEAM_HTTP_PORT: String(httpPort),
          STAGEBEAM_DRAIN_TIMEOUT: "5s",
        })
        const address = `127.0.0.1:${port}`
        const ready = Effect.promise(() =>
          fetch(`http://127.0.0.1:${httpPort}/ready`).then(async (response) => ({
            status: response.status,
            body: (await response.json()) as { status: string; draining: boolean },
          })),
        )
        const before = yield* ready
        assert.strictEqual(before.status, 200)
        assert.isFalse(before.body.draining)
        const client = yield* makeReasonerClient({ address, defaultDeadline: "90 seconds" })
        // A call in flight keeps the drain going (it outlasts the drain time and is cut at its end).
        const running = yield* Effect.forkChild(
          client.Reason({ question: QUESTION, image: { data: yield* pngImage() }, search: { candidatesPerStage: 4 } }),
        )
        assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running > 0)))
        gateway.child.kill("SIGTERM")
        assert.isTrue(
          yield* eventually(Effect.map(healthOf(address, "stagebeam.v1.Reasoner"), (s) => s === "NOT_SERVING")),
        )
        // 2 s of the drain: eight rounds of the 250 ms readiness loop, which once set SERVING back.
        const seen: Array<string> = []
        for (let i = 0; i < 20; i++) {
          const grpc = yield* healthOf(address, "stagebeam.v1.Reasoner")
          const overall = yield* healthOf(address, "")
          const http = yield* ready
          seen.push(`${grpc}/${overall}/${http.status}/${http.body.status}/${http.body.draining}`)
          yield* Effect.sleep("100 millis")
        }
        assert.deepStrictEqual(
          [...new Set(seen)],
          ["NOT_SERVING/NOT_SERVING/503/NOT_SERVING/true"],
          "every probe during the drain says NOT_SERVING",
        )
        const cut = yield* Effect.flip(Fiber.join(running))
        assert.strictEqual(cut.code, 14)
        assert.strictEqual(yield* Effect.promise(() => gateway.exited), 0)
      }),
    60_000,
  )

  it.live(
    "calls still running when the drain time is over answer UNAVAILABLE with the reason",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1, { speed: 1 })
        const port = yield* freePort
        const gateway = yield* startGatewayProcess({
          STAGEBEAM_ENDPOINTS: servers[0]!.url,
          STAGEBEAM_GRPC_HOST: "127.0.0.1",
          STAGEBEAM_GRPC_PORT: String(port),
          STAGEBEAM_METRICS_PORT: "0",
          STAGEBEAM_HTTP_PORT: "0",
          STAGEBEAM_DRAIN_TIMEOUT: "1s",
        })
        const client = yield* makeReasonerClient({ address: `127.0.0.1:${port}`, defaultDeadline: "90 seconds" })
        const running = yield* Effect.forkChild(
          client.Reason({ question: QUESTION, image: { data: yield* pngImage() }, search: { candidatesPerStage: 4 } }),
        )
        assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running > 0)))
        gateway.child.kill("SIGTERM")
        const error = yield* Effect.flip(Fiber.join(running))
        assert.strictEqual(error.code, 14)
        assert.include(error.message, "did not finish within its drain time")
        assert.strictEqual(yield* Effect.promise(() => gateway.exited), 0)
        // The upstream requests were aborted, not left running on the GPU server.
        assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running === 0)))
      }),
    60_000,
  )
})
