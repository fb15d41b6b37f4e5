// POST /v1/chat/completions: validation as vLLM does it, then the engine decides when each token exists, and the
// response (JSON or SSE) reveals the pre-computed text at that pace.
import type { IncomingMessage, ServerResponse } from "node:http"
import { Result } from "effect"
import type { SimContext } from "./context.ts"
import type { RequestView } from "./engine.ts"
import { type ApiError, badRequest, errorBody, errorForStatus, notFound, proxyErrorPage } from "./errors.ts"
import { addedLatencyMs, chooseFault, type FaultAction } from "./faults.ts"
import { type GenerationParams, type SampleOutput, sampleOutputs } from "./generate.ts"
import { promptTiles } from "./images.ts"
import { fetchImageUrls } from "./imageUrls.ts"
import { imageTokensOf } from "./profiles.ts"
import { blockHashes, renderPrompt } from "./prompt.ts"
import { mergeRecords } from "./records.ts"
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

/** vLLM's _SAMPLING_EPS: a temperature below it is greedy sampling. */
const SAMPLING_EPS = 1e-5

/**
 * The fields of the body this server does not know, logged as vLLM's OpenAIBaseModel does (protocol.py,
 * `extra="allow"`): the request goes on as if they were absent. Logged once per field set here (vLLM logs every
 * request), and counted per field in /sim/stats.
 */
const noteIgnoredFields = (ctx: SimContext, body: unknown) => {
  if (typeof body !== "object" || body === null) return
  const ignored = ctx.behaviour.ignoredFields.filter((field) => field in body)
  if (ignored.length === 0) return
  for (const field of ignored) ctx.ignoredFields.set(field, (ctx.ignoredFields.get(field) ?? 0) + 1)
  const key = ignored.join(",")
  if (ctx.loggedIgnored.has(key)) return
  ctx.loggedIgnored.add(key)
  ctx.log(
    `WARNING [protocol.py] The following fields were present in the request but ignored: {${ignored.map((f) => `'${f}'`).join(", ")}}`,
  )
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
  // vllm/sampling_params.py: temperature below _SAMPLING_EPS (1e-5) is greedy, and greedy takes one sample only.
  if (b.refusesGreedyN && r.temperature != null && r.temperature < SAMPLING_EPS && n > 1)
    return Result.fail(badRequest(`n must be 1 when using greedy sampling, got ${n}.`))
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
    ...(b.stop === "ignored" || r.stop_token_ids == null ? {} : { stopTokenIds: r.stop_token_ids }),
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
  noteIgnoredFields(ctx, body)
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
  const entropy = `${baseId}:${ctx.requestCounter++}:${Math.random()}`
  // V0's children are n = 1 requests, child i seeded seed + i (sequence.py ParallelSampleSequenceGroup).
  const children = ctx.behaviour.parallelSampling === "children" && n > 1
  const outputs = children
    ? Array.from(
        { length: n },
        (_, i) =>
          sampleOutputs(
            prompt,
            { ...effective, seed: effective.seed === undefined ? undefined : effective.seed + i },
            1,
            `${entropy}:${i}`,
          )[0]!,
      )
    : sampleOutputs(prompt, effective, n, entropy)
  const imageTiles = promptTiles(prompt.imageSizes, ctx.profile.tileSize, ctx.profile.maxTiles)
  // V0's usage counts the vision encoder's tokens in prompt_tokens (REFERENCE.md section 2).
  const usagePromptTokens = promptTokens - prompt.images + imageTokensOf(ctx.profile, imageTiles)
  const completionId = `chatcmpl-${baseId}`
  const created = Math.floor(Date.now() / 1000)
  const engineId = `${completionId}#${ctx.requestCounter++}`
  const engineIds = children ? outputs.map((_, i) => `${engineId}_parallel_sample_${i}`) : [engineId]
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
  let submitted = false
  res.on("close", () => {
    if (finished) return
    let aborted = false
    for (const id of engineIds) aborted = ctx.engine.abort(id) || aborted
    if (aborted) ctx.outcomes.abort++
    // Every call that reached the engine ends once: answered, or left by its client.
    if (submitted) ctx.calls.aborted++
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
        ctx.calls.finished++
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
    ctx.calls.finished++
    record(outputs)
    if (malformed) {
      res.writeHead(200, { "content-type": "application/json", ...idHeaders })
      res.end(`{"id": "${completionId}", "object": "chat.completion", "choices": [{"index": 0, "message": `)
      return
    }
    const record_ = mergeRecords(engineIds.flatMap((id) => ctx.engine.record(id) ?? []))
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
    ctx.calls.submitted++
    submitted = true
    const base = {
      // Servers that do not take vLLM's `priority` accept and ignore it.
      priority: ctx.behaviour.priority ? (request.priority ?? 0) : 0,
      textTokens: promptTokens,
      images: prompt.images,
      imageTiles,
      blockHashes: blockHashes(prompt, ctx.profile.blockSize),
    }
    if (!children) {
      ctx.engine.submit({ ...base, id: engineId, sampleTokens: outputs.map((o) => o.pieces.length), onUpdate })
      return
    }
    // n child requests, each queued, prefilled (image included) and holding KV on its own; the response shows
    // them as one, in index order, done when the last child is.
    const generated = outputs.map(() => 0)
    const done = outputs.map(() => false)
    let firstTokenAtMs: number | undefined
    ctx.engine.submitAll(
      engineIds.map((id, i) => ({
        ...base,
        id,
        sampleTokens: [outputs[i]!.pieces.length],
        onUpdate: (view) => {
          generated[i] = view.generated[0]!
          done[i] = view.done
          if (view.firstTokenAtMs !== undefined)
            firstTokenAtMs = Math.min(firstTokenAtMs ?? view.firstTokenAtMs, view.firstTokenAtMs)
          onUpdate({ id: engineId, generated: generated.slice(), done: done.every(Boolean), firstTokenAtMs })
        },
      })),
    )
  }
}
