import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import type { ReasonRequest } from "@stagebeam/proto"

/**
 * Tests and benchmarks only (the hostile-input battery, bench/hostile.ts): what a careless or hostile caller sends —
 * every field far too long on both doors — and the means to send it and watch the gateway process. The production
 * entry (main.ts) never imports this module.
 */

export const MODEL = "Xkev/Llama-3.2V-11B-cot"
export const QUESTION = "Which shape is shown?\nA. circle\nB. square"
export const MB = 1024 * 1024

export interface RawAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: string
}

export interface RawRequest {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string
}

/** One HTTP request with exactly these headers (fetch would not send a forged Host). */
export const sendRaw = (url: string, options: RawRequest = {}): Promise<RawAnswer> =>
  new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      )
    })
    request.on("error", reject)
    request.end(options.body)
  })

export const JSON_HEADERS = { "content-type": "application/json" }

/** A chat completion body (GREEDY unless `stagebeam` says otherwise), with `overrides` over its top-level fields. */
export const chatBody = (overrides: Record<string, unknown> = {}, stagebeam: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: MODEL,
    messages: [{ role: "user", content: QUESTION }],
    stagebeam: { strategy: "greedy", ...stagebeam },
    ...overrides,
  })

/** An ordinary POST of the HTTP door (a GREEDY chat completion). */
export const ordinaryChat: RawRequest = { method: "POST", headers: JSON_HEADERS, body: chatBody() }

/** An ordinary Reason call of the gRPC door. */
export const ordinaryReason: ReasonRequest = { question: QUESTION, search: { strategy: "STRATEGY_GREEDY" } }

/** A chat completion whose question is `bytes` of "x" (20 MB once killed the process). */
export const hugeQuestionChat = (bytes: number): RawRequest => ({
  method: "POST",
  headers: JSON_HEADERS,
  body: chatBody({ messages: [{ role: "user", content: "x".repeat(bytes) }] }),
})

/** Every text field of the HTTP body far too long (`long`), with the `param` the 400 must name. */
export const longHttpFields = (long: string): ReadonlyArray<readonly [body: string, param: string]> => [
  [chatBody({ model: long }), "model"],
  [chatBody({ messages: [{ role: long, content: QUESTION }] }), "messages[0].role"],
  [chatBody({ messages: [{ role: "user", content: [{ type: "text", text: long }] }] }), "messages[0].content"],
  [
    chatBody({
      messages: [
        { role: "user", content: Array.from({ length: 8 }, () => ({ type: "text", text: "z".repeat(16_000) })) },
      ],
    }),
    "messages[0].content",
  ],
  [chatBody({ messages: Array.from({ length: 10_000 }, () => ({ role: "user", content: "q" })) }), "messages"],
  [
    chatBody({
      messages: [{ role: "user", content: Array.from({ length: 10_000 }, () => ({ type: "text", text: "q" })) }],
    }),
    "messages[0].content",
  ],
  [chatBody({}, { judge_name: long }), "stagebeam.judge_name"],
  [chatBody({}, { strategy: long }), "stagebeam.strategy"],
  [
    chatBody({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: QUESTION },
            { type: "image_url", image_url: { url: "https://example.com/a.png", detail: long } },
          ],
        },
      ],
    }),
    "messages[0].content",
  ],
]

/** A chat completion (GREEDY) asking about the image at `url`. */
export const imageUrlChat = (url: string): RawRequest => ({
  method: "POST",
  headers: JSON_HEADERS,
  body: chatBody({
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: QUESTION },
          { type: "image_url", image_url: { url } },
        ],
      },
    ],
  }),
})

/** An image URL of `long`'s length: refused as a client error, not a crash. */
export const longImageUrlChat = (long: string): RawRequest => imageUrlChat(`https://example.com/${long}`)

/** Every text field of a Reason call far too long (`long`), with the field the INVALID_ARGUMENT must name. */
export const longGrpcFields = (long: string): ReadonlyArray<readonly [request: ReasonRequest, field: string]> => [
  [{ question: "y".repeat(64 * 1024) }, "question"],
  [{ question: QUESTION, judge: { name: long } }, "judge.name"],
  [{ question: QUESTION, image: { url: `https://example.com/${long}` } }, "image"],
  [{ question: QUESTION, image: { data: new Uint8Array(16), mimeType: long } }, "image"],
]

/** The longest the gateway's event loop was held since it started serving, in seconds (refreshed every second). */
export const LOOP_DELAY_MAX = "nodejs_eventloop_delay_max_seconds"

/** The most memory the process has held (VmHWM), in bytes. */
export const peakRss = (pid: number): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024
