import { Pool, request } from "undici"

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

/** A buffered answer: what the gateway reads of a request it sends without the SDK (chat, health, models, metrics). */
export interface BufferedAnswer {
  readonly status: number
  /** The body as sent (an error's cut at `maxErrorBytes`). */
  readonly body: Buffer
  /** The answer's headers, parsed when first read (most answers' are never read). */
  readonly headers: () => Headers
}

/** How a request sent with `send` ends, once: its answer, or why not (AnswerTooLarge, undici's connection errors). */
export type Answered = (error: Error | undefined, answer: BufferedAnswer | undefined) => void

/** Stops a request sent with `send`; its `Answered` is not called after this. */
export type Cancel = () => void

/** A request sent with `send`, its answer read whole. */
export interface LeanRequest {
  readonly method: "GET" | "POST"
  readonly url: string
  /** Flat name/value pairs (`["accept", "application/json", …]`), as undici takes them without a copy. */
  readonly headers: ReadonlyArray<string>
  readonly body: RequestBody | null
  /** Past this the request fails with AnswerTooLarge (default `maxBodyBytes`); an error status's body is cut. */
  readonly maxBytes?: number
}

export interface LeanTransport {
  /**
   * A `fetch` for the openai SDK: undici's `request` on a keep-alive pool per server, with no WHATWG streams. A body
   * that is not a stream is read whole into a buffer (within its limit) before the SDK sees the answer; an event
   * stream is handed on as the socket's own chunks, counted against `maxStreamBytes`.
   */
  readonly fetch: typeof globalThis.fetch
  /**
   * Sends a request without the SDK, promises or an AbortSignal (the hottest calls: every generation and verdict,
   * load reports, probes), its answer read whole within its limit (an error status's body cut at
   * `maxErrorBytes`). `cancel` stops it: a request already on the wire closes its connection (how an HTTP/1.1
   * server hears to stop), one still waiting for a connection is dropped without touching any.
   */
  readonly send: (request: LeanRequest, answered: Answered) => Cancel
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

/**
 * Why a cancelled request is aborted, as undici hands it on (to no one: a cancelled request's `Answered` is not
 * called). Made once, without a stack.
 */
const CANCELLED = (() => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  const error = new Error("the request was cancelled")
  Error.stackTraceLimit = limit
  return error
})()

/**
 * Aborts a request on the wire with errors made without stacks: undici makes one more as it destroys the socket,
 * and Node's stream destroy formats its stack, a share of every aborted speculative call's CPU (issue #24).
 */
const abortQuietly = (abort: (reason: Error) => void, reason: Error) => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    abort(reason)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * One request whose answer is read whole, as undici's dispatcher handler: `request` would make a Readable stream, an
 * async iterator, an AsyncResource and parsed headers for every answer, which were a share of the gateway's CPU per
 * upstream call (issue #24). Past its limit the request is aborted (the socket closes, the server stops sending)
 * and fails with AnswerTooLarge, or, for an error's body, keeps what it read.
 */
class Exchange {
  private abort: ((reason: Error) => void) | undefined = undefined
  /** Answered or cancelled: nothing more is said. */
  private over = false
  private status = 0
  private rawHeaders: ReadonlyArray<Buffer> | null = null
  private limit = Number.POSITIVE_INFINITY
  private cut = false
  private first: Buffer | undefined = undefined
  private rest: Array<Buffer> | undefined = undefined
  private total = 0
  private readonly answered: Answered
  private readonly maxBytes: number
  private readonly maxErrorBytes: number

  constructor(answered: Answered, maxBytes: number, maxErrorBytes: number) {
    this.answered = answered
    this.maxBytes = maxBytes
    this.maxErrorBytes = maxErrorBytes
  }

  readonly cancel: Cancel = () => {
    if (this.over) return
    this.over = true
    // Not on the wire yet: `onConnect` drops it when its turn comes, and the connection stays.
    if (this.abort !== undefined) abortQuietly(this.abort, CANCELLED)
  }

  /** Called as the request is about to be written (after a wait for a connection). */
  onConnect(abort: (reason: Error) => void) {
    // Cancelled while it waited: throwing here makes undici drop the request unwritten and keep the connection
    // (an abort would close a connection that never carried it).
    if (this.over) throw CANCELLED
    this.abort = abort
  }

  onHeaders(statusCode: number, raw: ReadonlyArray<Buffer>) {
    if (statusCode < 200) return true
    this.status = statusCode
    this.rawHeaders = raw
    this.cut = statusCode >= 400
    this.limit = this.cut ? this.maxErrorBytes : this.maxBytes
    return true
  }

  onData(chunk: Buffer) {
    if (this.total + chunk.length > this.limit) {
      if (!this.cut) {
        this.fail(new AnswerTooLarge("body", this.limit))
        return false
      }
      this.keep(chunk.subarray(0, this.limit - this.total))
      this.finish()
      // The rest of the error body is left unread: the connection cannot carry another request.
      if (this.abort !== undefined) abortQuietly(this.abort, CANCELLED)
      return false
    }
    this.keep(chunk)
    return true
  }

  onComplete() {
    this.finish()
  }

  onError(error: Error) {
    if (this.over) return
    this.over = true
    this.answered(error, undefined)
  }

  private keep(chunk: Buffer) {
    if (this.first === undefined) this.first = chunk
    else if (this.rest === undefined) this.rest = [this.first, chunk]
    else this.rest.push(chunk)
    this.total += chunk.length
  }

  private fail(error: Error) {
    if (this.over) return
    this.over = true
    if (this.abort !== undefined) abortQuietly(this.abort, error)
    this.answered(error, undefined)
  }

  private finish() {
    if (this.over) return
    this.over = true
    const body = this.rest !== undefined ? Buffer.concat(this.rest, this.total) : (this.first ?? Buffer.alloc(0))
    const rawHeaders = this.rawHeaders
    this.answered(undefined, {
      status: this.status,
      body,
      headers: () => new LightHeaders(() => headerPairs(rawHeaders)) as unknown as Headers,
    })
  }
}

/** undici's pool options: deadlines are the callers' (every call has one and cancels with it), so undici's are off. */
const poolOptions = { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4_000 }

/** Past this many servers' pools, those without a connection are let go when another is made (a changing fleet). */
const POOLS_KEPT = 64

/**
 * The transport: an undici Pool of keep-alive connections per server (origin), dispatched on directly. An Agent
 * would look the pool up by origin on every call, re-emit every connect and disconnect through two layers, and
 * close and remake a server's pool whenever its last connection closed (as an aborted call's does).
 */
export const makeLeanTransport = (limits: TransportLimits = defaultTransportLimits): LeanTransport => {
  const pools = new Map<string, Pool>()
  const poolFor = (origin: string): Pool => {
    const known = pools.get(origin)
    if (known !== undefined) return known
    if (pools.size >= POOLS_KEPT) {
      for (const [other, pool] of pools) {
        const stats = pool.stats
        if (stats.connected === 0 && stats.size === 0) {
          pools.delete(other)
          void pool.close()
        }
      }
    }
    const pool = new Pool(origin, poolOptions)
    pools.set(origin, pool)
    return pool
  }

  /** undici's body argument, and the content length of one sent in pieces. */
  const bodyArgument = (
    raw: RequestBody | null | undefined,
    headers: Array<string> | Record<string, string>,
  ): string | Buffer | null => {
    if (!Array.isArray(raw)) return (raw as string | Buffer | null | undefined) ?? null
    // Pieces: undici writes an iterable in order, with the length given here.
    const length = String(raw.reduce((sum: number, piece: Buffer) => sum + piece.length, 0))
    if (Array.isArray(headers)) headers.push("content-length", length)
    else headers["content-length"] = length
    return raw as unknown as Buffer
  }

  const send: LeanTransport["send"] = (request, answered) => {
    const exchange = new Exchange(answered, request.maxBytes ?? limits.maxBodyBytes, limits.maxErrorBytes)
    const body = request.body
    let headers = request.headers as Array<string>
    if (Array.isArray(body)) {
      headers = [...headers]
      bodyArgument(body, headers)
    }
    const { origin, path } = originAndPath(request.url)
    poolFor(origin).dispatch(
      { origin, path, method: request.method, headers, body: body as Buffer | null },
      exchange as unknown as Parameters<Pool["dispatch"]>[1],
    )
    return exchange.cancel
  }

  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
    const method = (init?.method ?? "GET").toUpperCase()
    const headers = headerRecord(init?.headers)
    const body = bodyArgument(init?.body as RequestBody | null | undefined, headers)
    const answer = await request(url, {
      dispatcher: poolFor(originAndPath(url).origin),
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

  const close = async () => {
    const all = [...pools.values()]
    pools.clear()
    await Promise.all(all.map((pool) => pool.close()))
  }

  return { fetch, send, close }
}
