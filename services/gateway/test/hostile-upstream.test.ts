import { createServer, request as httpRequest, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { MB, ordinaryChat, ordinaryReason, peakRss, sendRaw } from "../src/dev/HostileInputs.ts"
import { eventually, startGatewayProcessOver, startSimulators } from "./harness.ts"

/**
 * A hostile upstream through the doors (issue #22): a gateway process whose one server answers its chat completions
 * with 300 MB, or with an event stream that never ends. The call must fail with an error naming the server, the
 * gateway's memory must stay bounded (the pod's limit), and it must serve again once the server behaves.
 */

/** The Kubernetes base's memory limit for the gateway (deploy/). */
const MEMORY_LIMIT = 1024 * MB

type Mode = "honest" | "flood" | "endless"

const EVENT = `data: ${JSON.stringify({
  id: "c",
  object: "chat.completion.chunk",
  model: "m",
  choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }],
})}\n\n`

/**
 * A server in front of a simulator: everything goes through (start-up probes, /health, /metrics, /v1/models, the
 * probes' own chat requests), except the calls' chat completions while the mode is hostile, which get 300 MB of JSON
 * ("flood") or events without end ("endless"), made as they are sent and at the pace the gateway reads. It counts
 * the most bytes one hostile answer got out before the gateway hung up.
 */
const hostileUpstream = (target: string) =>
  Effect.acquireRelease(
    Effect.callback<{
      readonly url: string
      readonly setMode: (mode: Mode) => void
      readonly hostileAnswers: () => number
      readonly mostSent: () => number
      readonly close: () => void
    }>((resume) => {
      let mode: Mode = "honest"
      let hostileAnswers = 0
      let mostSent = 0
      const pour = (response: ServerResponse, contentType: string, chunk: Buffer, total: number) => {
        hostileAnswers++
        let sent = 0
        response.writeHead(200, {
          "content-type": contentType,
          ...(Number.isFinite(total) ? { "content-length": String(total) } : {}),
        })
        const pump = () => {
          while (!response.destroyed && sent < total) {
            const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent)
            sent += piece.length
            mostSent = Math.max(mostSent, sent)
            if (!response.write(piece)) return void response.once("drain", pump)
          }
          if (!response.destroyed) response.end()
        }
        pump()
      }
      const server = createServer((request, response) => {
        const requestId = String(request.headers["x-request-id"] ?? "")
        const hostile =
          mode !== "honest" &&
          request.method === "POST" &&
          (request.url ?? "").startsWith("/v1/chat/completions") &&
          !requestId.startsWith("stagebeam-probe")
        if (hostile) {
          request.resume()
          request.on("end", () =>
            mode === "flood"
              ? pour(response, "application/json", Buffer.alloc(64 * 1024, 0x20), 300 * MB)
              : pour(response, "text/event-stream", Buffer.from(EVENT.repeat(100)), Number.POSITIVE_INFINITY),
          )
          return
        }
        const forwarded = httpRequest(
          `${target}${request.url ?? "/"}`,
          { method: request.method, headers: request.headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(response)
          },
        )
        forwarded.on("error", () => response.destroy())
        request.pipe(forwarded)
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            setMode: (next: Mode) => {
              mode = next
            },
            hostileAnswers: () => hostileAnswers,
            mostSent: () => mostSent,
            close: () => {
              server.closeAllConnections()
              server.close()
            },
          }),
        ),
      )
    }),
    (upstream) => Effect.sync(upstream.close),
  )

describe("a hostile upstream through the doors (a gateway process)", () => {
  it.live(
    "a 300 MB answer and an endless stream: each call fails naming the server, memory stays bounded, and the gateway serves again",
    () =>
      Effect.gen(function* () {
        const [simulator] = yield* startSimulators(1, { speed: 200 })
        const upstream = yield* hostileUpstream(simulator!.url)
        // Failures of the hostile server must not take it out of rotation: each call is to meet it.
        const { process, client, http } = yield* startGatewayProcessOver([upstream], {
          STAGEBEAM_FAILURE_THRESHOLD: "1000",
          STAGEBEAM_HEALTH_INTERVAL: "1s",
        })
        const chat = `${http}/v1/chat/completions`
        const ordinaryHttp = Effect.map(
          Effect.promise(() => sendRaw(chat, ordinaryChat)),
          (answer) => answer.status === 200,
        )
        assert.isTrue(yield* eventually(ordinaryHttp, 500))

        for (const mode of ["flood", "endless"] as const) {
          upstream.setMode(mode)
          const answered = yield* Effect.promise(() => sendRaw(chat, ordinaryChat))
          assert.strictEqual(answered.status, 503, `${mode}: ${answered.body.slice(0, 500)}`)
          assert.include(JSON.parse(answered.body).error.message, upstream.url, mode)
          assert.strictEqual(answered.headers["x-upstream-server"], upstream.url, mode)
          const error = yield* Effect.flip(client.Reason(ordinaryReason, { deadline: "30 seconds" }))
          assert.strictEqual(error.statusName, "UNAVAILABLE", `${mode}: ${error.message}`)
          assert.include(error.message, upstream.url, mode)
          if (mode === "flood") assert.include(error.message, "longer than")
          upstream.setMode("honest")
        }
        assert.isAbove(upstream.hostileAnswers(), 0)
        // What one hostile answer got out before the gateway hung up: the transport's limit and the sockets'
        // buffers, nowhere near the 300 MB (an endless stream has no end to reach).
        assert.isBelow(upstream.mostSent(), 100 * MB)
        assert.isBelow(peakRss(process.child.pid!), MEMORY_LIMIT)

        // The server behaves again: both doors serve.
        assert.isTrue(yield* eventually(ordinaryHttp, 500))
        const after = yield* client.Reason(ordinaryReason)
        assert.isAbove(after.conclusion.length, 0)
      }),
    120_000,
  )
})
