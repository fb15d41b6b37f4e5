// POST /v1/chat/completions: validation as vLLM does it, then the engine decides when each token exists, and the
// response (JSON or SSE) reveals the pre-computed text at that pace.
import type { IncomingMessage, ServerResponse } from "node:http"
import { Result } from "effect"
import type { SimContext } from "./context.ts"
import type { RequestView } from "./engine.ts"
import { type ApiError, badRequest, errorBody, errorForStatus, notFound, proxyErrorPage } from "./errors.ts"
import { addedLatencyMs, chooseFault, type FaultAction } from "./faults.ts"
import { type GenerationParams, type SampleOutput, sampleOutputs } from "./generate.ts"
import { fetchImageUrls } from "./imageUrls.ts"
import { blockHashes, renderPrompt } from "./prompt.ts"
import { type ChatRequest, decodeChatRequest } from "./request.ts"
import { decode } from "./tokens.ts"

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  res.end(text)
}

export const sendError = (
  ctx: SimContext,
  res: ServerResponse,
  error: ApiError,
  headers: Record<string, string> = {},
) => sendJson(res, error.status, errorBody(error, ctx.errorFormat), headers)

const wallDelay = (ctx: SimContext, virtualMs: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, virtualMs / ctx.speed)))

interface Validated {
  readonly request: ChatRequest
  readonly params: GenerationParams
  readonly n: number
}

const validate = (ctx: SimContext, body: unknown): Result.Result<Validated, ApiError> => {
  const decoded = decodeChatRequest(body)
  if (Result.isFailure(decoded)) return Result.fail(badRequest(`Invalid request: ${decoded.failure.message}`))
  const r = decoded.success
  const b = ctx.behaviour
  if (b.checksModel && r.model !== undefined && r.model !== null && r.model !== ctx.model)
    return Result.fail(notFound(`The model \`${r.model}\` does not exist.`))
  // A server without n answers one choice whatever n says.
  const n = b.n ? (r.n ?? 1) : 1
  if (n < 1) return Result.fail(badRequest(`n must be at least 1, got ${n}.`, "n"))
  if (r.temperature != null && r.temperature < 0)
    return Result.fail(badRequest(`temperature must be non-negative, got ${r.temperature}.`, "temperature"))
  if (r.top_p != null && (r.top_p <= 0 || r.top_p > 1))
    return Result.fail(badRequest(`top_p must be in (0, 1], got ${r.top_p}.`, "top_p"))
  const maxTokens = r.max_completion_tokens ?? r.max_tokens
  if (maxTokens != null && maxTokens < 1)
    return Result.fail(badRequest(`max_tokens must be at least 1, got ${maxTokens}.`, "max_tokens"))
  if (b.logprobs && r.top_logprobs != null && (r.top_logprobs < 0 || r.top_logprobs > 20))
    return Result.fail(badRequest("`top_logprobs` must be a non-negative value and at most 20.", "top_logprobs"))
  if (b.logprobs && r.top_logprobs != null && r.top_logprobs > 0 && r.logprobs !== true)
    return Result.fail(badRequest("when using `top_logprobs`, `logprobs` must be set to true.", "top_logprobs"))
  if (r.stream_options != null && r.stream !== true)
    return Result.fail(badRequest("Stream options can only be defined when `stream=True`.", "stream_options"))
  const priority = b.priority ? (r.priority ?? 0) : 0
  if (priority !== 0 && ctx.schedulingPolicy !== "priority")
    return Result.fail(badRequest(`Got priority ${priority} but Priority scheduling is not enabled.`, "priority"))
  const choice = constrainedChoice(ctx, r)
  if (choice !== undefined && choice.choices.length === 0)
    return Result.fail(badRequest(`${choice.field} must contain at least one choice.`, choice.field))
  const stop = b.stop === "ignored" || r.stop == null ? [] : typeof r.stop === "string" ? [r.stop] : r.stop
  const params: GenerationParams = {
    seed: b.seeds ? (r.seed ?? undefined) : undefined,
    greedy: r.temperature === 0,
    maxTokens: maxTokens ?? 0,
    stop,
    includeStop: b.stop === "vllm" ? r.include_stop_str_in_output === true : r.no_stop_trim === true,
    ignoreEos: r.ignore_eos === true,
    guidedChoice: choice?.choices,
    judge: ctx.judge,
  }
  return Result.succeed({ request: r, params, n })
}

/** The list of choices the output is constrained to, from the first field this server kind honours. */
const constrainedChoice = (ctx: SimContext, r: ChatRequest) => {
  for (const field of ctx.behaviour.choiceFields) {
    const choices = field === "guided_choice" ? r.guided_choice : r.structured_outputs?.choice
    if (choices != null) return { field, choices }
  }
  return undefined
}

/** What a choice says about its stop: vLLM's `stop_reason`, SGLang's `matched_stop`, nothing on other servers. */
const stopField = (ctx: SimContext, out: SampleOutput): Record<string, unknown> => {
  switch (ctx.behaviour.stop) {
    case "vllm":
      return { stop_reason: out.stopReason }
    case "sglang":
      return { matched_stop: out.stopReason }
    case "ignored":
      return {}
  }
}

const randomHex = () => crypto.randomUUID().replaceAll("-", "")

const logprobsContent = (out: SampleOutput, from: number, to: number, top: number) => {
  const entries = []
  for (let i = from; i < to; i++) {
    const token = out.pieces[i]!
    const logprob = out.logprobs[i]!
    // A decision's first token lists the other answers it could have been; other tokens arbitrary ones.
    const known = i === 0 ? out.alternatives : []
    const alternatives = Array.from({ length: Math.max(0, top - 1) }, (_, k) =>
      k < known.length
        ? { token: known[k]!.token, logprob: known[k]!.logprob, bytes: [...Buffer.from(known[k]!.token)] }
        : {
            token: decode([1000 + ((i * 7919 + k * 104729) % 120000)]),
            logprob: Math.min(logprob, known[known.length - 1]?.logprob ?? logprob) - 1.5 - k,
            bytes: null,
          },
    )
    entries.push({
      token,
      logprob,
      bytes: [...Buffer.from(token)],
      top_logprobs: top > 0 ? [{ token, logprob, bytes: [...Buffer.from(token)] }, ...alternatives] : [],
    })
  }
  return entries
}

export const handleChat = async (ctx: SimContext, req: IncomingMessage, res: ServerResponse, rawBody: string) => {
  const headerId = req.headers["x-request-id"]
  const baseId = typeof headerId === "string" && headerId.length > 0 ? headerId : randomHex()
  const idHeaders = { "x-request-id": baseId }
  const now = performance.now()
  if (ctx.faults.dead === true) {
    ctx.outcomes.error++
    return sendError(
      ctx,
      res,
      errorForStatus(500, "EngineCore encountered an issue. See stack trace for the root cause."),
    )
  }
  if (now < ctx.readyAtWall) {
    ctx.outcomes.rejected++
    return sendError(ctx, res, errorForStatus(503, "The server is still loading the model."), idHeaders)
  }
  const fault: FaultAction = chooseFault(ctx.faults, ctx.faultRng.next)
  const latency = addedLatencyMs(ctx.faults, ctx.faultRng.next)
  if (latency > 0) {
    ctx.faultLatencyMs += latency
    await wallDelay(ctx, latency)
  }
  // A client that left while the body was read or the added latency ran is gone: vLLM cancels at any point.
  if (res.destroyed || req.socket.destroyed) {
    ctx.outcomes.abort++
    return
  }
  if (fault.kind !== "none") ctx.outcomes.fault++
  switch (fault.kind) {
    case "reset":
      req.socket.destroy()
      return
    case "hang":
      return // never answered; the client's deadline ends it
    case "error": {
      const page = ctx.faults.errorPage ?? "json"
      if (page === "json")
        return sendError(ctx, res, errorForStatus(fault.status, `Simulated fault: status ${fault.status}.`), idHeaders)
      const { contentType, body } = proxyErrorPage(fault.status, page)
      res.writeHead(fault.status, { "content-type": contentType, "content-length": Buffer.byteLength(body) })
      return res.end(body)
    }
    default:
      break
  }
  let body: unknown
  try {
    body = JSON.parse(rawBody)
  } catch (e) {
    ctx.outcomes.error++
    return sendError(ctx, res, badRequest(`JSON decode error: ${(e as Error).message}`), idHeaders)
  }
  const validated = validate(ctx, body)
  if (Result.isFailure(validated)) {
    ctx.outcomes.error++
    return sendError(ctx, res, validated.failure, idHeaders)
  }
  const { request, params, n } = validated.success
  const fetching = fetchImageUrls(request)
  const unfetched = fetching === undefined ? undefined : await fetching
  if (unfetched !== undefined) {
    ctx.outcomes.error++
    return sendError(ctx, res, unfetched, idHeaders)
  }
  const rendered = renderPrompt(request, ctx.profile.maxImagesPerPrompt, ctx.behaviour.continuation)
  if ("error" in rendered) {
    ctx.outcomes.error++
    return sendError(ctx, res, rendered.error, idHeaders)
  }
  const prompt = rendered.ok
  const promptTokens = prompt.tokenIds.length
  const maxModelLen = ctx.profile.maxModelLen
  const requestedMax = params.maxTokens > 0 ? params.maxTokens : undefined
  if (promptTokens >= maxModelLen || (requestedMax !== undefined && promptTokens + requestedMax > maxModelLen)) {
    ctx.outcomes.error++
    const message =
      requestedMax === undefined
        ? `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`
        : `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + requestedMax} tokens (${promptTokens} in the messages, ${requestedMax} in the completion). Please reduce the length of the messages or completion.`
    return sendError(ctx, res, badRequest(message, "messages"), idHeaders)
  }
  if (ctx.maxWaitingRequests !== undefined && ctx.engine.waitingRequests() >= ctx.maxWaitingRequests) {
    ctx.outcomes.rejected++
    return sendError(ctx, res, errorForStatus(429, "Too many requests waiting; try again later."), idHeaders)
  }
  const effective: GenerationParams = { ...params, maxTokens: requestedMax ?? maxModelLen - promptTokens }
  const outputs = sampleOutputs(prompt, effective, n, `${baseId}:${ctx.requestCounter++}:${Math.random()}`)
  const usagePromptTokens = promptTokens - prompt.images + prompt.images * ctx.profile.imageTokens
  const completionId = `chatcmpl-${baseId}`
  const created = Math.floor(Date.now() / 1000)
  const engineId = `${completionId}#${ctx.requestCounter++}`
  const wantLogprobs = ctx.behaviour.logprobs && request.logprobs === true
  const topLogprobs = request.top_logprobs ?? 0
  const withUsage = ctx.behaviour.usage
  const usage = (view: RequestView) => {
    const completion = view.generated.reduce((a, b) => a + b, 0)
    return {
      prompt_tokens: usagePromptTokens,
      total_tokens: usagePromptTokens + completion,
      completion_tokens: completion,
      prompt_tokens_details: null,
    }
  }
  let finished = false
  res.on("close", () => {
    if (!finished && ctx.engine.abort(engineId)) ctx.outcomes.abort++
  })
  const stallAfter = fault.kind === "stall" ? fault.afterTokens : Number.POSITIVE_INFINITY
  const malformed = fault.kind === "malformed"

  if (request.stream === true) {
    const includeUsage = request.stream_options?.include_usage === true
    const sent = outputs.map(() => 0) // tokens already revealed per sample
    const closedChoice = outputs.map(() => false)
    let started = false
    const write = (payload: unknown) => {
      if (!res.destroyed) res.write(`data: ${JSON.stringify(payload)}\n\n`)
    }
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      id: completionId,
      object: "chat.completion.chunk",
      created,
      model: ctx.model,
      choices,
      ...extra,
    })
    const onUpdate = (view: RequestView) => {
      if (res.destroyed) return
      if (!started) {
        started = true
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...idHeaders })
        outputs.forEach((_, index) => {
          write(chunk([{ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]))
        })
      }
      outputs.forEach((out, index) => {
        if (closedChoice[index]) return
        const upTo = Math.min(view.generated[index]!, stallAfter)
        if (upTo <= sent[index]!) return
        if (malformed) {
          res.end('data: {"id": "chatcmpl-broken", "choices": [\n\n')
          closedChoice.fill(true)
          return
        }
        const from = sent[index]!
        const before = from === 0 ? 0 : out.visibleAfter[from - 1]!
        const after = out.visibleAfter[upTo - 1]!
        sent[index] = upTo
        const done = upTo >= out.pieces.length
        const logprobs = wantLogprobs ? { content: logprobsContent(out, from, upTo, topLogprobs) } : null
        if (after > before || !done)
          write(chunk([{ index, delta: { content: out.text.slice(before, after) }, logprobs, finish_reason: null }]))
        if (done) {
          closedChoice[index] = true
          write(
            chunk([
              {
                index,
                delta: {},
                logprobs: null,
                finish_reason: out.finishReason,
                ...stopField(ctx, out),
              },
            ]),
          )
        }
      })
      if (view.done && !malformed && stallAfter === Number.POSITIVE_INFINITY) {
        finished = true
        record(outputs)
        if (includeUsage && withUsage) write(chunk([], { usage: usage(view) }))
        res.end("data: [DONE]\n\n")
      }
    }
    submit(onUpdate)
    return
  }

  const onUpdate = (view: RequestView) => {
    if (!view.done || res.destroyed) return
    if (stallAfter !== Number.POSITIVE_INFINITY) {
      res.writeHead(200, { "content-type": "application/json", ...idHeaders })
      res.write('{"id": ')
      return // headers and a fragment, then silence
    }
    finished = true
    record(outputs)
    if (malformed) {
      res.writeHead(200, { "content-type": "application/json", ...idHeaders })
      res.end(`{"id": "${completionId}", "object": "chat.completion", "choices": [{"index": 0, "message": `)
      return
    }
    const record_ = ctx.engine.record(engineId)
    sendJson(
      res,
      200,
      {
        id: completionId,
        object: "chat.completion",
        created,
        model: ctx.model,
        choices: outputs.map((out, index) => ({
          index,
          message: {
            role: "assistant",
            content: out.text,
            refusal: null,
            annotations: null,
            audio: null,
            function_call: null,
            tool_calls: [],
            reasoning_content: null,
          },
          logprobs: wantLogprobs ? { content: logprobsContent(out, 0, out.pieces.length, topLogprobs) } : null,
          finish_reason: out.finishReason,
          ...stopField(ctx, out),
        })),
        ...(ctx.behaviour.name.startsWith("vllm") && { service_tier: null, system_fingerprint: null }),
        ...(withUsage && { usage: usage(view) }),
        ...(ctx.behaviour.name.startsWith("vllm") && { prompt_logprobs: null, kv_transfer_params: null }),
      },
      {
        ...idHeaders,
        ...(record_ === undefined
          ? {}
          : {
              "x-vllm-sim-e2e-ms": record_.e2eMs.toFixed(3),
              "x-vllm-sim-queue-ms": record_.queueMs.toFixed(3),
              "x-vllm-sim-ttft-ms": (record_.ttftMs ?? 0).toFixed(3),
            }),
      },
    )
  }
  submit(onUpdate)

  function record(outs: ReadonlyArray<SampleOutput>) {
    for (const out of outs) {
      if (out.finishReason === "length") ctx.outcomes.length++
      else ctx.outcomes.stop++
    }
  }

  function submit(onUpdate: (view: RequestView) => void) {
    ctx.engine.submit({
      id: engineId,
      // Servers that do not take vLLM's `priority` accept and ignore it.
      priority: ctx.behaviour.priority ? (request.priority ?? 0) : 0,
      textTokens: promptTokens,
      images: prompt.images,
      blockHashes: blockHashes(prompt, ctx.profile.blockSize),
      sampleTokens: outputs.map((o) => o.pieces.length),
      onUpdate,
    })
  }
}
