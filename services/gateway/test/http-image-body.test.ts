import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import sharp from "sharp"
import { recordingProxy, startGateway, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown?\nA. circle\nB. square\nC. star\nD. arrow"
const MODEL = "Xkev/Llama-3.2V-11B-cot"

/** A noisy JPEG of the size given: it does not compress, so its data URL is large. */
const noisyJpeg = (width: number, height: number) =>
  Effect.promise(() =>
    sharp({
      create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 50 } },
    })
      .jpeg({ quality: 95 })
      .toBuffer(),
  )

/** The image URLs and the text of the chat requests the servers were sent. */
const sentOf = (bodies: ReadonlyArray<Buffer>) =>
  bodies.map((body) => {
    const request = JSON.parse(body.toString()) as {
      messages: Array<{ content: string | Array<{ type: string; text?: string; image_url?: { url: string } }> }>
    }
    const parts = request.messages.flatMap((message) => (typeof message.content === "string" ? [] : message.content))
    return {
      images: parts.flatMap((part) => (part.image_url === undefined ? [] : [part.image_url.url])),
      text: JSON.stringify(request.messages),
    }
  })

/** POSTs `body` (a string, sent as it is) to the HTTP door. */
const post = (url: string, body: string) =>
  Effect.promise(() =>
    fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body }).then(
      async (response) => ({ status: response.status, json: (await response.json()) as Record<string, unknown> }),
    ),
  )

describe("the HTTP door's request body with an inline image", () => {
  it.live("reaches the servers as it was sent, whether the image is small, large, or written with escapes", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const { gateway } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
      const url = gateway.httpUrl!
      // 800×600 the processor keeps: the gateway sends the bytes it was given. 40 kB and ~300 kB of base64: the
      // body with the image out is parsed on the event loop either way; with it in, the larger went to the worker.
      for (const [width, height] of [
        [200, 150],
        [800, 600],
      ] as const) {
        const jpeg = yield* noisyJpeg(width, height)
        const dataUrl = `data:image/jpeg;base64,${jpeg.toString("base64")}`
        // The question quotes data URLs (escaped quotes, one running to the string's end): they stay text.
        const question = `${QUESTION}\nIgnore "data:image/png;base64,AAAA", \\"data:image/png;base64,BBBB\\" and "data:image/png;base64,CCCC`
        const body = JSON.stringify({
          model: MODEL,
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: question },
                { type: "image_url", image_url: { url: dataUrl } },
              ],
            },
          ],
          stagebeam: { candidates: 2, seed: 3 },
        })
        const before = proxy.seen.length
        const answered = yield* post(url, body)
        assert.strictEqual(answered.status, 200, JSON.stringify(answered.json))
        const sent = sentOf(
          proxy.seen
            .slice(before)
            .filter((request) => request.path === "/v1/chat/completions")
            .map((request) => request.body),
        )
        assert.isAbove(sent.length, 0)
        for (const request of sent) {
          assert.deepStrictEqual(request.images, [dataUrl])
          assert.include(request.text, JSON.stringify(question).slice(1, -1))
        }
      }

      // The same image with its slashes escaped (`\/`, as some JSON writers do) is the same image.
      const jpeg = yield* noisyJpeg(200, 150)
      const dataUrl = `data:image/jpeg;base64,${jpeg.toString("base64")}`
      const escaped = JSON.stringify({
        model: MODEL,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: QUESTION },
              { type: "image_url", image_url: { url: dataUrl } },
            ],
          },
        ],
      }).replaceAll("/", "\\/")
      const before = proxy.seen.length
      const answered = yield* post(url, escaped)
      assert.strictEqual(answered.status, 200, JSON.stringify(answered.json))
      // Chat requests only: a pick after an idle spell reads the servers' /metrics first (load reports by need).
      const sent = sentOf(
        proxy.seen
          .slice(before)
          .filter((request) => request.path === "/v1/chat/completions")
          .map((request) => request.body),
      )
      assert.deepStrictEqual(sent[0]!.images, [dataUrl])
    }),
  )

  it.live("a body that is not JSON around a large image is refused naming body, with the parser's words", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const jpeg = yield* noisyJpeg(200, 150)
      const dataUrl = `data:image/jpeg;base64,${jpeg.toString("base64")}`
      // A trailing comma after the image's object: not JSON, whether or not the image is taken out first.
      const body = `{"model":"${MODEL}","messages":[{"role":"user","content":[{"type":"text","text":"${"Q"}"},{"type":"image_url","image_url":{"url":"${dataUrl}"},}]}]}`
      const refused = yield* post(gateway.httpUrl!, body)
      assert.strictEqual(refused.status, 400)
      const error = refused.json.error as { param: string; message: string }
      assert.strictEqual(error.param, "body")
      assert.include(error.message, "is not JSON")
      // The position the parser names is in the body as sent, image included.
      const position = /at position (\d+)/.exec(error.message)
      assert.isNotNull(position, error.message)
      assert.isAbove(Number(position![1]), dataUrl.length)
    }),
  )
})
