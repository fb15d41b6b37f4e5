import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect, Scope } from "effect"
import {
  freePort,
  pngImage,
  recordingProxy,
  seriesValue,
  startGatewayOver,
  startGatewayProcess,
  startSimulators,
} from "./harness.ts"

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
}

/** An in-process OTLP/HTTP receiver: it keeps every span posted to /v1/traces (JSON encoding). */
const otlpReceiver = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly spans: Array<OtlpSpan>; readonly close: () => void }>((resume) => {
    const spans: Array<OtlpSpan> = []
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        if (request.url === "/v1/traces") {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
            resourceSpans: ReadonlyArray<{ scopeSpans: ReadonlyArray<{ spans: ReadonlyArray<OtlpSpan> }> }>
          }
          for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans)
        }
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resume(
        Effect.succeed({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          spans,
          close: () => server.close(),
        }),
      ),
    )
  }),
  (receiver) => Effect.sync(receiver.close),
)

const QUESTION = "Which shape is shown?\nA. circle\nB. square"

describe("traces", () => {
  it.live("an OTLP receiver gets the spans of one search with parent links, and the server sees traceparent", () =>
    Effect.gen(function* () {
      const receiver = yield* otlpReceiver
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const data = yield* pngImage()
      // The gateway lives in its own scope: closing it flushes the exporter.
      const scope = yield* Scope.make()
      const { client } = yield* startGatewayOver([{ ...servers[0]!, url: proxy.url }], {
        tracing: { endpoint: receiver.url },
      }).pipe(Scope.provide(scope))
      // The seeded knockout (stragglers play matches as samples arrive, without round spans).
      yield* client.Reason({
        question: QUESTION,
        image: { data },
        search: { candidatesPerStage: 2, seed: "3", stragglers: false },
      })
      yield* Scope.close(scope, { _tag: "Success", value: undefined } as never)

      const spans = receiver.spans
      const names = spans.map((span) => span.name)
      for (const name of [
        "Reasoner.Reason",
        "Reasoner.search",
        "tournament.round",
        "tournament.match",
        "Pool.complete",
      ]) {
        assert.include(names, name)
      }
      assert.strictEqual(names.filter((name) => name === "search.step").length, 4)
      const root = spans.find((span) => span.name === "Reasoner.Reason")!
      const search = spans.filter((span) => span.traceId === root.traceId)
      const ids = new Set(search.map((span) => span.spanId))
      for (const span of search) {
        if (span !== root) assert.isTrue(span.parentSpanId !== undefined && ids.has(span.parentSpanId), span.name)
      }
      const chats = new Set(search.filter((span) => span.name === "OpenAiClient.chat").map((span) => span.spanId))
      // The searches' calls (not the probe's question about priority when the server joined).
      const upstream = proxy.seen.filter(
        (request) => request.path === "/v1/chat/completions" && !request.requestId?.startsWith("stagebeam-probe"),
      )
      assert.isAbove(upstream.length, 4)
      for (const request of upstream) {
        const [, traceId, spanId] = request.traceparent?.split("-") ?? []
        assert.strictEqual(traceId, root.traceId)
        assert.isTrue(chats.has(spanId ?? ""), request.traceparent)
      }
    }),
  )
})

describe("logs", () => {
  it.live("JSON lines: one access line per call, and the client's request id on it, on the response and upstream", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const port = yield* freePort
      const gateway = yield* startGatewayProcess({
        STAGEBEAM_ENDPOINTS: proxy.url,
        STAGEBEAM_GRPC_HOST: "127.0.0.1",
        STAGEBEAM_GRPC_PORT: String(port),
        STAGEBEAM_METRICS_PORT: "0",
        STAGEBEAM_HTTP_PORT: "0",
        STAGEBEAM_LOG_FORMAT: "json",
      })
      const client = yield* makeReasonerClient({ address: `127.0.0.1:${port}`, defaultDeadline: "60 seconds" })
      let echoed = ""
      yield* client.Reason(
        { question: QUESTION, image: { data: yield* pngImage() }, search: { candidatesPerStage: 2 } },
        { metadata: { "x-request-id": "req-42" }, onHeaders: (headers) => (echoed = headers["x-request-id"] ?? "") },
      )
      yield* Effect.flip(client.Reason({ question: "" }))
      assert.strictEqual(echoed, "req-42")
      // The searches' calls (not the probe's question about priority when the server joined).
      const upstream = proxy.seen.filter(
        (request) => request.path === "/v1/chat/completions" && !request.requestId?.startsWith("stagebeam-probe"),
      )
      assert.isAbove(upstream.length, 0)
      assert.isTrue(upstream.every((request) => request.requestId?.startsWith("req-42.")))

      yield* Effect.sleep("200 millis")
      const lines = gateway
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { message: unknown; annotations: Record<string, unknown> })
      const calls = lines.filter((line) => JSON.stringify(line.message).includes("call"))
      const ok = calls.find((line) => line.annotations.requestId === "req-42")
      assert.isDefined(ok, gateway.output())
      assert.deepInclude(ok!.annotations, { method: "Reason", status: "OK", strategy: "STAGE_BEAM", candidates: 2 })
      assert.isAbove(Number(ok!.annotations.generationCalls), 0)
      const refused = calls.find((line) => line.annotations.status === "INVALID_ARGUMENT")
      assert.isDefined(refused)
      assert.match(String(refused!.annotations.requestId), /^rsn-/)
    }),
  )
})

/** A counter's value on a /metrics page (0 when the series is not there yet). */
const counterOf = (page: string, name: string, labels: string) => Number(seriesValue(page, name, labels) ?? 0)

describe("process metrics", () => {
  it.live("garbage collections by kind: runs and seconds of pause, added with each /metrics read", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { gateway } = yield* startGatewayOver(servers)
      const read = Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      const before = counterOf(yield* read, "nodejs_gc_runs_total", 'kind="minor"')
      // Short-lived garbage past any young generation's size: V8 scavenges at least once (this process is the gateway's).
      let kept = 0
      for (let i = 0; i < 400_000; i++) kept += Array.from({ length: 32 }, () => ({ i })).length
      assert.strictEqual(kept, 400_000 * 32)
      // perf_hooks hands gc entries to observers after the collection, in a later turn.
      yield* Effect.sleep("100 millis")
      const page = yield* read
      assert.isAbove(counterOf(page, "nodejs_gc_runs_total", 'kind="minor"'), before, page)
      assert.isAbove(counterOf(page, "nodejs_gc_pause_seconds_total", 'kind="minor"'), 0)
      assert.include(page, "# HELP nodejs_gc_runs_total")
    }),
  )
})
