// The HTTP surface of one simulated vLLM server (node:http): OpenAI routes, vLLM's operational routes, and the
// simulator's own admin routes under /sim.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { Result } from "effect"
import { handleChat, sendError, sendJson } from "./chat.ts"
import type { SimContext } from "./context.ts"
import { badRequest, errorForStatus } from "./errors.ts"
import { decodeFaultConfig, type FaultConfig } from "./faults.ts"
import { renderMetrics } from "./metrics.ts"
import { handlePooling, handleScore } from "./pooling.ts"
import { encode } from "./tokens.ts"

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/** The SGLang release whose OpenAI API the sglang behaviour follows (reported by /get_server_info). */
const SGLANG_VERSION = "0.5.4"

/** vLLM's and SGLang's `--api-key`: the exact bearer token, compared on the behaviour's guarded paths. */
const authorized = (ctx: SimContext, path: string, header: string | undefined): boolean =>
  ctx.apiKey === undefined || !ctx.behaviour.guarded(path) || header === `Bearer ${ctx.apiKey}`

export const simStats = (ctx: SimContext) => {
  const s = ctx.engine.stats
  return {
    profile: ctx.profile.name,
    behaviour: ctx.behaviour.name,
    task: ctx.task,
    model: ctx.model,
    speed: ctx.speed,
    maxNumSeqs: ctx.maxNumSeqs,
    virtualSeconds: ctx.engine.nowMs() / 1000,
    busyGpuSeconds: s.busyMs / 1000,
    prefillGpuSeconds: s.prefillMs / 1000,
    decodeGpuSeconds: s.decodeMs / 1000,
    prefillSteps: s.prefillSteps,
    decodeSteps: s.decodeSteps,
    prefillTokens: s.prefillTokens,
    cachedPrefillTokens: s.cachedPrefillTokens,
    decodeTokens: s.decodeTokens,
    generationTokens: s.generationTokensTotal,
    imagesEncoded: s.imagesEncoded,
    imageTilesEncoded: s.imageTilesEncoded,
    /**
     * Chat calls as the client sees them (an n > 1 call is one, however many child requests the engine ran):
     * finished, aborted, and still in flight.
     */
    calls: {
      finished: ctx.calls.finished,
      aborted: ctx.calls.aborted,
      inFlight: ctx.calls.submitted - ctx.calls.finished - ctx.calls.aborted,
    },
    /** Requests that carried each field this server ignores (vLLM logs them, "present in the request but ignored"). */
    ignoredFields: Object.fromEntries(ctx.ignoredFields),
    preemptions: s.preemptions,
    running: ctx.engine.runningRequests(),
    runningSeqs: ctx.engine.runningSeqs(),
    waiting: ctx.engine.waitingRequests(),
    kvCacheUsage: ctx.engine.kvUsage(),
    maxRunningSeqs: s.maxRunningSeqs,
    maxWaitingRequests: s.maxWaitingRequests,
    requests: {
      finished: s.finished,
      aborted: s.aborted,
      samplesStop: ctx.outcomes.stop,
      samplesLength: ctx.outcomes.length,
      errors: ctx.outcomes.error,
      faults: ctx.outcomes.fault,
      rejected: ctx.outcomes.rejected,
    },
    faultLatencyMs: ctx.faultLatencyMs,
    /** GET /metrics requests answered. */
    metricsReads: ctx.metricsReads,
  }
}
export type SimStats = ReturnType<typeof simStats>

export interface ServerHooks {
  readonly setFaults: (faults: FaultConfig) => void
  readonly crash: (restartAfterMs: number | undefined) => void
}

export const makeHttpServer = (ctx: SimContext, hooks: ServerHooks): { server: Server; sockets: Set<Socket> } => {
  const sockets = new Set<Socket>()
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost")
    const path = url.pathname
    const method = req.method ?? "GET"
    const body = method === "GET" || method === "HEAD" ? "" : await readBody(req)
    const ready = performance.now() >= ctx.readyAtWall
    const behaviour = ctx.behaviour
    const notFound = () => sendJson(res, 404, { detail: "Not Found" })
    if (!path.startsWith("/sim/") && !authorized(ctx, path, req.headers.authorization))
      return sendJson(res, 401, behaviour.unauthorized)
    if (path === "/v1/chat/completions" && method === "POST") {
      if (ctx.task !== "generate")
        return sendError(ctx, res, badRequest("The model does not support Chat Completions API"))
      return handleChat(ctx, req, res, body)
    }
    if (behaviour.name.startsWith("vllm") && method === "POST") {
      if (path === "/pooling") return handlePooling(ctx, res, body)
      if (path === "/score" || path === "/v1/score") return handleScore(ctx, res, body)
    }
    if (path === "/health" || path === "/ping" || (path === "/health_generate" && behaviour.nativeInfo)) {
      if (!behaviour.health) return notFound()
      if (ctx.faults.dead === true || !ready) return sendJson(res, 503, {})
      res.writeHead(200, { "content-length": 0 })
      return res.end()
    }
    if (path === "/v1/models" && method === "GET")
      return sendJson(res, 200, {
        object: "list",
        data: [
          {
            id: ctx.model,
            object: "model",
            created: Math.floor(Date.now() / 1000),
            owned_by: behaviour.ownedBy,
            // Says it is a stand-in (no real server sends it), so a gateway can label what it serves as simulated.
            simulated_by: "vllm-sim",
            ...(behaviour.listsMaxModelLen && {
              root: ctx.model,
              parent: null,
              max_model_len: ctx.profile.maxModelLen,
            }),
            ...(behaviour.name.startsWith("vllm") && { permission: [] }),
          },
        ],
      })
    if (path === "/version")
      return behaviour.version === undefined ? notFound() : sendJson(res, 200, { version: behaviour.version })
    if (behaviour.nativeInfo && path === "/get_model_info")
      return sendJson(res, 200, { model_path: ctx.model, tokenizer_path: ctx.model, is_generation: true })
    if (behaviour.nativeInfo && path === "/get_server_info")
      return sendJson(res, 200, {
        model_path: ctx.model,
        context_length: ctx.profile.maxModelLen,
        version: SGLANG_VERSION,
      })
    if (path === "/metrics") {
      if (behaviour.metrics === "none") return notFound()
      ctx.metricsReads++
      const text = renderMetrics(ctx.engine, ctx.model, ctx.outcomes, behaviour.metrics)
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
      return res.end(text)
    }
    if (path === "/tokenize" && method === "POST" && behaviour.tokenize) {
      try {
        const parsed = JSON.parse(body) as { prompt?: unknown }
        const tokens = encode(typeof parsed.prompt === "string" ? parsed.prompt : "")
        return sendJson(res, 200, { count: tokens.length, max_model_len: ctx.profile.maxModelLen, tokens })
      } catch {
        return sendError(ctx, res, badRequest("Invalid JSON body."))
      }
    }
    if (path === "/sim/stats") return sendJson(res, 200, simStats(ctx))
    if (path.startsWith("/sim/requests/")) {
      const id = decodeURIComponent(path.slice("/sim/requests/".length))
      const rec = ctx.engine.stats.recent.findLast((r) => r.id.startsWith(`chatcmpl-${id}#`))
      return rec === undefined ? sendJson(res, 404, { detail: "Not Found" }) : sendJson(res, 200, rec)
    }
    if (path === "/sim/faults") {
      if (method === "GET") return sendJson(res, 200, ctx.faults)
      if (method === "DELETE") {
        hooks.setFaults({})
        return sendJson(res, 200, ctx.faults)
      }
      let parsed: unknown
      try {
        parsed = JSON.parse(body)
      } catch {
        return sendError(ctx, res, badRequest("Invalid JSON body."))
      }
      const decoded = decodeFaultConfig(parsed)
      if (Result.isFailure(decoded)) return sendError(ctx, res, badRequest(decoded.failure.message))
      // PUT replaces the configuration, POST/PATCH merge into it.
      hooks.setFaults(method === "PUT" ? decoded.success : { ...ctx.faults, ...decoded.success })
      return sendJson(res, 200, ctx.faults)
    }
    if (path === "/sim/crash" && method === "POST") {
      let restartAfterMs: number | undefined
      try {
        const parsed = body.length > 0 ? (JSON.parse(body) as { restartAfterMs?: unknown }) : {}
        if (typeof parsed.restartAfterMs === "number") restartAfterMs = parsed.restartAfterMs
      } catch {
        return sendError(ctx, res, badRequest("Invalid JSON body."))
      }
      sendJson(res, 200, { crashing: true, restartAfterMs: restartAfterMs ?? null })
      setImmediate(() => hooks.crash(restartAfterMs))
      return
    }
    return notFound()
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(ctx, res, errorForStatus(500, String(e)))
      else res.destroy()
    })
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  server.keepAliveTimeout = 5000
  return { server, sockets }
}
