import { Agent, request } from "undici"

/**
 * How much of an upstream answer the gateway reads: a server is untrusted input, and without these a 300 MB body or
 * an endless stream would be held in memory whole (issue #22). Past a limit the request is aborted (the socket
 * closes, the server stops sending) and the call fails with `AnswerTooLarge`; an error body is cut instead, since
 * only its first words are shown.
 */
export interface TransportLimits {
  /** A whole (non-streamed) answer. */
  readonly maxBodyBytes: number
  /** A streamed answer, all its events together. */
  readonly maxStreamBytes: number
  /** An error answer's body (its message is shown cut to a line anyway). */
  readonly maxErrorBytes: number
  /** A /metrics page (vLLM's is ~100–300 kB with every histogram). */
  readonly maxMetricsBytes: number
}

export const defaultTransportLimits: TransportLimits = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxStreamBytes: 64 * 1024 * 1024,
  maxErrorBytes: 64 * 1024,
  maxMetricsBytes: 4 * 1024 * 1024,
}

/** An answer longer than the transport reads: the request was aborted. */
export class AnswerTooLarge extends Error {
  override readonly name = "AnswerTooLarge"
  readonly what: string
  readonly limit: number
  constructor(what: string, limit: number) {
    super(`the server sent a ${what} longer than ${limit} bytes; the gateway stopped reading it`)
    this.what = what
    this.limit = limit
  }
}

/** The request body as the transport sends it: text, or pieces (a spliced image) sent one after the other. */
export type RequestBody = string | Buffer | ReadonlyArray<Buffer>

/** A buffered answer: what the gateway reads of a GET without the SDK (health, models, metrics). */
export interface BufferedAnswer {
  readonly status: number
  readonly text: string
}

export interface LeanTransport {
  /**
   * A `fetch` for the openai SDK: undici's `request` on a keep-alive pool per server, with no WHATWG streams. A body
   * that is not a stream is read whole into a buffer (within its limit) before the SDK sees the answer; an event
   * stream is handed on as the socket's own chunks, counted against `maxStreamBytes`.
   */
  readonly fetch: typeof globalThis.fetch
  /** GET `url`, its body read whole within `maxBytes` (default `maxBodyBytes`), else AnswerTooLarge. */
  readonly get: (
    url: string,
    options: {
      readonly headers?: Record<string, string>
      readonly signal?: AbortSignal
      /** Past this the request fails with AnswerTooLarge. */
      readonly maxBytes?: number
    },
  ) => Promise<BufferedAnswer>
  /**
   * POST a body, the answer read whole (within `maxBodyBytes`, else AnswerTooLarge; an error status's body cut at
   * `maxErrorBytes`): the direct path for the hottest calls, without the SDK.
   */
  readonly post: (
    url: string,
    options: {
      readonly headers: Record<string, string>
      readonly body: RequestBody
      readonly signal?: AbortSignal
    },
  ) => Promise<BufferedAnswer & { readonly headers: Headers }>
  /** Closes every pooled connection. */
  readonly close: () => Promise<void>
}

/** Header names as undici hands them (lower case), read the way the SDK reads a Response's. */
class LightHeaders {
  private parsed: Record<string, string | Array<string> | undefined> | undefined
  private readonly read: () => Record<string, string | Array<string> | undefined>
  /** `raw`: the headers, or how to read them when first asked (most answers' headers are never read). */
  constructor(
    raw:
      | Record<string, string | Array<string> | undefined>
      | (() => Record<string, string | Array<string> | undefined>),
  ) {
    this.read = typeof raw === "function" ? raw : () => raw
  }
  get raw(): Record<string, string | Array<string> | undefined> {
    this.parsed ??= this.read()
    return this.parsed
  }
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()]
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw)) yield [name, this.get(name) ?? ""]
  }
  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name)
  }
  [Symbol.iterator]() {
    return this.entries()
  }
}

/**
 * The part of a fetch Response the openai SDK reads (status, headers, text/json, or `body` as an async iterable of
 * chunks for SSE), without the WHATWG machinery: the SDK is given this object as a Response.
 */
class LightResponse {
  readonly ok: boolean
  readonly statusText = ""
  readonly redirected = false
  readonly type = "basic"
  bodyUsed = false
  readonly status: number
  readonly headers: LightHeaders
  readonly url: string
  readonly body: AsyncIterable<Buffer> | null
  readonly buffered: Buffer | undefined
  constructor(
    status: number,
    headers: LightHeaders,
    url: string,
    buffered: Buffer | undefined,
    body: AsyncIterable<Buffer> | null,
  ) {
    this.status = status
    this.headers = headers
    this.url = url
    this.buffered = buffered
    this.body = body
    this.ok = status >= 200 && status < 300
  }
  async text(): Promise<string> {
    this.bodyUsed = true
    if (this.buffered !== undefined) return this.buffered.toString("utf8")
    const chunks: Array<Buffer> = []
    for await (const chunk of this.body ?? []) chunks.push(chunk)
    return Buffer.concat(chunks).toString("utf8")
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text())
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = Buffer.from(await this.text(), "utf8")
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  }
}

type BodyStream = AsyncIterable<Buffer> & { destroy: (error?: Error) => void }

/** Reads `body` into one buffer; past `maxBytes` it fails (`cut`: stops there and keeps what it read). */
const readCapped = async (body: BodyStream, maxBytes: number, what: string, cut: boolean): Promise<Buffer> => {
  const chunks: Array<Buffer> = []
  let total = 0
  for await (const chunk of body) {
    if (total + chunk.length > maxBytes) {
      body.destroy()
      if (!cut) throw new AnswerTooLarge(what, maxBytes)
      chunks.push(chunk.subarray(0, maxBytes - total))
      total = maxBytes
      break
    }
    chunks.push(chunk)
    total += chunk.length
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
}

/** The body's chunks as they come, failing once they pass `maxBytes` (an endless stream ends there). */
async function* streamCapped(body: BodyStream, maxBytes: number): AsyncGenerator<Buffer> {
  let total = 0
  let ended = false
  try {
    for await (const chunk of body) {
      total += chunk.length
      if (total > maxBytes) throw new AnswerTooLarge("stream", maxBytes)
      yield chunk
    }
    ended = true
  } finally {
    // Left early (a cut stream, a failure): the socket closes, which is how the server hears to stop.
    if (!ended) body.destroy()
  }
}

/** The SDK's request headers (a Headers object, a record or pairs) as undici takes them. */
const headerRecord = (headers: RequestInit["headers"]): Record<string, string> => {
  const record: Record<string, string> = {}
  if (headers === undefined || headers === null) return record
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      record[name] = value
    })
    return record
  }
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) if (name !== undefined && value !== undefined) record[name] = value
    return record
  }
  return { ...(headers as Record<string, string>) }
}

const isEventStream = (contentType: string | Array<string> | undefined) =>
  (Array.isArray(contentType) ? contentType.join(",") : (contentType ?? "")).includes("text/event-stream")

/** An origin and a path from a URL (`http://host:port/v1/…`), without parsing a URL object per call. */
const originAndPath = (url: string): { readonly origin: string; readonly path: string } => {
  const slash = url.indexOf("/", url.indexOf("//") + 2)
  return slash === -1 ? { origin: url, path: "/" } : { origin: url.slice(0, slash), path: url.slice(slash) }
}

/** Response headers as undici's raw pairs hand them (names and values as Buffers), read into a record. */
const headerPairs = (raw: ReadonlyArray<Buffer | string> | null): Record<string, string | Array<string>> => {
  const record: Record<string, string | Array<string>> = {}
  if (raw === null) return record
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString().toLowerCase()
    const value = raw[i + 1]!.toString()
    const before = record[name]
    record[name] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value]
  }
  return record
}

/** A whole answer as `exchange` reads it: its status, raw headers (parsed only where read) and body. */
interface Exchanged {
  readonly status: number
  readonly rawHeaders: ReadonlyArray<Buffer | string> | null
  readonly body: Buffer
}

/**
 * One request whose answer is read whole, on undici's dispatcher with a handler of its own: `request` would make a
 * Readable stream, an async iterator, an AsyncResource and parsed headers for every answer, which were a share of the
 * gateway's CPU per upstream call (issue #24). Past its limit (`limitFor` the status) the request is aborted (the
 * socket closes, the server stops sending) and fails with AnswerTooLarge, or with `cut` keeps what it read. The
 * signal aborts it (with the signal's reason).
 */
const exchange = (
  agent: Agent,
  url: string,
  method: "GET" | "POST",
  headers: Record<string, string>,
  body: string | Buffer | null,
  signal: AbortSignal | undefined,
  limitFor: (status: number) => { readonly bytes: number; readonly what: string; readonly cut: boolean },
): Promise<Exchanged> =>
  new Promise<Exchanged>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason)
      return
    }
    let abort: ((reason: Error) => void) | undefined
    let settled = false
    let stopped: Error | undefined
    let status = 0
    let rawHeaders: ReadonlyArray<Buffer | string> | null = null
    let limit = { bytes: Number.POSITIVE_INFINITY, what: "body", cut: false }
    const chunks: Array<Buffer> = []
    let total = 0
    const onAbort = () => stop(signal?.reason)
    const done = () => {
      settled = true
      signal?.removeEventListener("abort", onAbort)
    }
    const finish = () => {
      if (settled) return
      done()
      resolve({ status, rawHeaders, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) })
    }
    const stop = (reason: unknown) => {
      if (settled) return
      done()
      stopped = reason instanceof Error ? reason : new Error(String(reason))
      abort?.(reason as Error)
      reject(reason)
    }
    signal?.addEventListener("abort", onAbort, { once: true })
    const { origin, path } = originAndPath(url)
    agent.dispatch({ origin, path, method, headers, body }, {
      // Called as the request is written (after a wait for a connection): one stopped meanwhile goes no further.
      onConnect: (abortRequest: (reason: Error) => void) => {
        abort = abortRequest
        if (stopped !== undefined) abortRequest(stopped)
      },
      onHeaders: (statusCode: number, raw: Array<Buffer>) => {
        if (statusCode < 200) return true
        status = statusCode
        rawHeaders = raw
        limit = limitFor(statusCode)
        return true
      },
      onData: (chunk: Buffer) => {
        if (total + chunk.length > limit.bytes) {
          if (!limit.cut) {
            stop(new AnswerTooLarge(limit.what, limit.bytes))
            return false
          }
          chunks.push(chunk.subarray(0, limit.bytes - total))
          total = limit.bytes
          const answered = { status, rawHeaders, body: Buffer.concat(chunks, total) }
          done()
          abort?.(new AnswerTooLarge(limit.what, limit.bytes))
          resolve(answered)
          return false
        }
        chunks.push(chunk)
        total += chunk.length
        return true
      },
      onComplete: finish,
      onError: stop,
    } as unknown as Parameters<Agent["dispatch"]>[1])
  })

/**
 * The transport: one undici Agent, which keeps a pool of keep-alive connections per server (origin). Deadlines are
 * the callers' (every call has one and aborts with it), so undici's own header/body timeouts are off.
 */
export const makeLeanTransport = (limits: TransportLimits = defaultTransportLimits): LeanTransport => {
  const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4_000 })

  /** undici's body argument, and the content length of one sent in pieces. */
  const bodyArgument = (
    raw: RequestBody | null | undefined,
    headers: Record<string, string>,
  ): string | Buffer | null => {
    if (!Array.isArray(raw)) return (raw as string | Buffer | null | undefined) ?? null
    // Pieces: undici writes an iterable in order, with the length given here.
    headers["content-length"] = String(raw.reduce((sum: number, piece: Buffer) => sum + piece.length, 0))
    return raw as unknown as Buffer
  }

  /** What an answer of this status may bring: a whole body, or an error's first words. */
  const bodyLimit = (status: number) =>
    status >= 400
      ? { bytes: limits.maxErrorBytes, what: "error body", cut: true }
      : { bytes: limits.maxBodyBytes, what: "body", cut: false }

  const post: LeanTransport["post"] = async (url, options) => {
    const headers = { ...options.headers }
    const answer = await exchange(
      agent,
      url,
      "POST",
      headers,
      bodyArgument(options.body, headers),
      options.signal,
      bodyLimit,
    )
    return {
      status: answer.status,
      text: answer.body.toString("utf8"),
      headers: new LightHeaders(() => headerPairs(answer.rawHeaders)) as unknown as Headers,
    }
  }

  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
    const method = (init?.method ?? "GET").toUpperCase()
    const headers = headerRecord(init?.headers)
    const body = bodyArgument(init?.body as RequestBody | null | undefined, headers)
    const answer = await request(url, {
      dispatcher: agent,
      method: method as "GET",
      headers,
      body,
      signal: init?.signal ?? null,
    })
    const responseHeaders = new LightHeaders(answer.headers)
    const stream = answer.body as unknown as BodyStream
    if (answer.statusCode < 300 && isEventStream(answer.headers["content-type"])) {
      return new LightResponse(
        answer.statusCode,
        responseHeaders,
        url,
        undefined,
        streamCapped(stream, limits.maxStreamBytes),
      ) as unknown as Response
    }
    const failed = answer.statusCode >= 400
    const bytes = await readCapped(
      stream,
      failed ? limits.maxErrorBytes : limits.maxBodyBytes,
      failed ? "error body" : "body",
      failed,
    )
    return new LightResponse(answer.statusCode, responseHeaders, url, bytes, null) as unknown as Response
  }) as typeof globalThis.fetch

  const get: LeanTransport["get"] = async (url, options) => {
    const maxBytes = options.maxBytes ?? limits.maxBodyBytes
    const answer = await exchange(agent, url, "GET", options.headers ?? {}, null, options.signal, () => ({
      bytes: maxBytes,
      what: "body",
      cut: false,
    }))
    return { status: answer.status, text: answer.body.toString("utf8") }
  }

  return { fetch, get, post, close: () => agent.close() }
}
