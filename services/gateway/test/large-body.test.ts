import { request as httpRequest } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type RawRequest, sendRaw } from "../src/dev/HostileInputs.ts"
import { noisePng, recordingProxy, startGateway, startSimulators } from "./harness.ts"

const httpOf = (gateway: { readonly httpUrl: string | undefined }) => `${gateway.httpUrl!}/v1/chat/completions`

const MODEL = "Xkev/Llama-3.2V-11B-cot"
const QUESTION = "Which shape is shown?\nA. circle\nB. square"

/** A GREEDY chat completion with this image URL. */
const chatWith = (url: string): RawRequest => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    model: MODEL,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: QUESTION },
          { type: "image_url", image_url: { url } },
        ],
      },
    ],
    stagebeam: { strategy: "greedy" },
  }),
})

/** A POST whose body goes chunked (no Content-Length), `chunks` of `size` bytes: the answer's status and body. */
const sendChunked = (url: string, chunks: number, size: number) =>
  Effect.promise(
    () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          url,
          { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
          (response) => {
            let body = ""
            response.on("data", (chunk: Buffer) => {
              body += chunk.toString()
            })
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
          },
        )
        request.on("error", (error) => (/EPIPE|ECONNRESET/.test(error.message) ? undefined : reject(error)))
        let sent = 0
        const more = () => {
          while (sent < chunks) {
            sent++
            if (!request.write(Buffer.alloc(size, 0x20))) return void request.once("drain", more)
          }
          request.end()
        }
        more()
      }),
  )

/** Headers declaring `declared` bytes, then only a few: the answer, which must come without the rest. */
const sendDeclaring = (url: string, declared: number) =>
  Effect.promise(
    () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          url,
          { method: "POST", headers: { "content-type": "application/json", "content-length": String(declared) } },
          (response) => {
            let body = ""
            response.on("data", (chunk: Buffer) => {
              body += chunk.toString()
            })
            response.on("end", () => {
              resolve({ status: response.statusCode ?? 0, body })
              request.destroy()
            })
          },
        )
        request.on("error", (error) => (/socket hang up|ECONNRESET/.test(error.message) ? undefined : reject(error)))
        request.write("{")
      }),
  ).pipe(Effect.timeout("10 seconds"))

describe("large request bodies on the HTTP door", () => {
  it.live(
    "a body over 256 KB (read chunk by chunk, parsed off the event loop) carries its image to the servers byte for byte",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1)
        const proxy = yield* recordingProxy(servers[0]!.url)
        // Prescaling off: the servers get the image as it came, so it can be compared.
        const { gateway } = yield* startGateway({
          pools: { generator: { endpoints: [proxy.url] } },
          images: { prescale: "off" },
        })
        const png = yield* noisePng()
        const url = `data:image/png;base64,${png.toString("base64")}`
        assert.isAbove(url.length, 256 * 1024)
        const answer = yield* Effect.promise(() => sendRaw(httpOf(gateway), chatWith(url)))
        assert.strictEqual(answer.status, 200, answer.body.slice(0, 500))
        const sent = proxy.seen.filter(
          (request) => request.path === "/v1/chat/completions" && request.body.includes("data:image/png"),
        )
        assert.isAbove(sent.length, 0)
        for (const request of sent) {
          const body = JSON.parse(request.body.toString("utf8")) as {
            messages: Array<{ content: unknown }>
          }
          const parts = body.messages[0]!.content as Array<{ type: string; image_url?: { url: string } }>
          assert.strictEqual(parts.find((part) => part.type === "image_url")!.image_url!.url, url)
        }
      }),
  )

  it.live("refuses a malformed data: URL in a large body with the words and field of a small one", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const chat = httpOf(gateway)
      const payload = (yield* noisePng()).toString("base64")
      const cases = [
        (body: string) => `data:image/png;base64,${body.slice(0, 100)}!${body.slice(100)}`,
        (body: string) => `data:image/png,${body}`,
        (body: string) => `data:text/plain;base64,${body}`,
        (body: string) => `DATA:image/png;base64,${body}`,
      ]
      for (const make of cases) {
        const large = yield* Effect.promise(() => sendRaw(chat, chatWith(make(payload))))
        const small = yield* Effect.promise(() => sendRaw(chat, chatWith(make(payload.slice(0, 4000)))))
        assert.isAbove(chatWith(make(payload)).body!.length, 256 * 1024)
        if (make === cases[3]) {
          // Upper case is still a data: URL: both sizes are read, the small one decodes and the large one too.
          assert.notStrictEqual(large.status, 500, large.body.slice(0, 300))
          continue
        }
        assert.strictEqual(large.status, 400, large.body.slice(0, 300))
        assert.strictEqual(small.status, 400, small.body.slice(0, 300))
        const [largeError, smallError] = [large, small].map(
          (answer) => (JSON.parse(answer.body) as { error: { param: string; message: string } }).error,
        )
        assert.strictEqual(largeError!.param, "messages[0].content[1].image_url.url")
        assert.deepStrictEqual(largeError, smallError)
      }
    }),
  )

  it.live("refuses a body over the limit: by its Content-Length before reading it, or chunked as it arrives", () =>
    Effect.gen(function* () {
      // images.maxBytes 300 kB: bodies up to 4/3 of it and 1 MiB of room.
      const { gateway } = yield* startGateway({ images: { maxBytes: 300_000 } })
      const chat = httpOf(gateway)
      const limit = Math.ceil((300_000 * 4) / 3) + 1024 * 1024
      const declared = yield* sendDeclaring(chat, limit + 1)
      assert.strictEqual(declared.status, 400, declared.body)
      assert.include(declared.body, `is larger than ${limit} bytes`)
      assert.include(declared.body, '"param":"body"')
      const chunked = yield* sendChunked(chat, 40, 64 * 1024)
      assert.strictEqual(chunked.status, 400, chunked.body)
      assert.include(chunked.body, `is larger than ${limit} bytes`)
      // A chunked body under the limit is read whole: here, not JSON.
      const small = yield* sendChunked(chat, 4, 64 * 1024)
      assert.strictEqual(small.status, 400, small.body)
      assert.include(small.body, "is not JSON")
    }),
  )
})
