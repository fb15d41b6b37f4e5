import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import sharp from "sharp"
import {
  chatBodyWithImage,
  eventually,
  heldBytes,
  pngImage,
  startGateway,
  startGatewayOver,
  startSimulators,
} from "./harness.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"

/**
 * A GIF whose logical screen is `width`×`height` and whose one frame is a single pixel: 29 bytes that Pillow (what
 * vLLM decodes with) opens at the screen's size.
 */
const lyingGif = (width: number, height: number) =>
  Buffer.from([
    ...Buffer.from("GIF89a"),
    width & 0xff,
    width >> 8,
    height & 0xff,
    height >> 8,
    0x00, // no global colour table
    0x00,
    0x00,
    0x2c, // image descriptor: a 1×1 frame at 0,0
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0x02, // LZW minimum code size, one data block
    0x02,
    0x44,
    0x01,
    0x00,
    0x3b,
  ])

/** A solid 16-bit RGBA PNG: a few kilobytes that decode to width × height × 8 bytes. */
const deepPng = (width: number, height: number) =>
  Effect.promise(() =>
    sharp({ create: { width, height, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 1 } } })
      .png({ compressionLevel: 9 })
      .toColourspace("rgb16")
      .toBuffer(),
  )

describe("images by their decoded cost", () => {
  it.live("a GIF whose logical screen passes the pixel limit is refused, though its one frame is a pixel", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const bomb = lyingGif(12000, 12000)
      assert.strictEqual(bomb.length, 29)
      const refused = yield* Effect.flip(client.Reason({ question: QUESTION, image: { data: bomb } }))
      assert.strictEqual(refused.code, 3)
      assert.include(
        refused.message,
        "invalid image.data: has 12000×12000 pixels in its logical screen; at most 40000000 allowed",
      )
      // Within the limit but not what libvips decodes: what would be forwarded is not what was checked.
      const liar = yield* Effect.flip(client.Reason({ question: QUESTION, image: { data: lyingGif(3000, 3000) } }))
      assert.strictEqual(liar.code, 3)
      assert.include(liar.message, "declares a 3000×3000 logical screen but its frames decode as 1×1")
    }),
  )

  it.live("the HTTP door refuses the lying GIF as a data: URL, naming the field", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const response = yield* Effect.promise(() =>
        fetch(`${gateway.httpUrl!}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: chatBodyWithImage(QUESTION, `data:image/gif;base64,${lyingGif(12000, 12000).toString("base64")}`),
        }).then(async (r) => ({ status: r.status, body: await r.text() })),
      )
      assert.strictEqual(response.status, 400)
      assert.include(response.body, "has 12000×12000 pixels in its logical screen")
    }),
  )

  it.live("bit depth and channels count: a 16-bit image that alone would pass the held-bytes budget is refused", () =>
    Effect.gen(function* () {
      const png = yield* deepPng(2000, 1500) // 24 MB decoded, a few kB compressed
      assert.isBelow(png.length, 200_000)
      const { client } = yield* startGateway({ admission: { maxHeldBytes: 20 * 1024 * 1024 } })
      const refused = yield* Effect.flip(client.Reason({ question: QUESTION, image: { data: png } }))
      assert.strictEqual(refused.code, 3)
      assert.include(refused.message, "invalid image.data: costs")
      assert.include(refused.message, "24000000 bytes of pixels")
    }),
  )

  it.live("admission holds a waiting image's decoded bytes, and what the call keeps once it is prepared", () =>
    Effect.gen(function* () {
      // Slow servers: the first call runs for minutes, until the test ends it.
      const servers = yield* startSimulators(1, { speed: 0.1 })
      const png = yield* deepPng(1500, 1000) // 12 MB decoded
      const decoded = 1500 * 1000 * 8
      const { client, gateway } = yield* startGatewayOver(servers, {
        admission: { maxRunningSequences: 2, maxHeldBytes: 1.5 * decoded },
        images: { maxBytes: 1_000_000 },
      })
      const request = { question: QUESTION, image: { data: png }, search: { candidatesPerStage: 2 } }
      const running = yield* Effect.forkChild(client.Reason(request))
      // Prepared and running: it holds its bytes and its data URL (scaled to 1120×746), not 12 MB.
      assert.isTrue(
        yield* eventually(Effect.map(heldBytes(gateway.metricsUrl), (bytes) => bytes > 0 && bytes < 1_000_000)),
      )
      const waiting = yield* Effect.forkChild(client.Reason(request))
      assert.isTrue(yield* eventually(Effect.map(heldBytes(gateway.metricsUrl), (bytes) => bytes > decoded)))
      // A third would hold 12 MB more while it waits: past the budget, refused at once.
      const refused = yield* Effect.flip(client.Reason(request))
      assert.strictEqual(refused.code, 8)
      assert.include(refused.message, "image bytes")
      yield* Fiber.interrupt(waiting)
      yield* Fiber.interrupt(running)
      assert.isTrue(yield* eventually(Effect.map(heldBytes(gateway.metricsUrl), (bytes) => bytes === 0)))
    }),
  )

  it.live("slow image URLs hold fetch slots only: an inline image is not queued behind them", () =>
    Effect.gen(function* () {
      // A web server that answers each request after a long pause, so every fetch slot stays taken.
      const stalled: Array<() => void> = []
      const web = yield* Effect.acquireRelease(
        Effect.callback<{ url: string; close: () => void }>((resume) => {
          const server = createServer((_, response) => {
            stalled.push(() => response.destroy())
          })
          server.listen(0, "127.0.0.1", () =>
            resume(
              Effect.succeed({
                url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
                close: () => {
                  for (const release of stalled) release()
                  server.close()
                },
              }),
            ),
          )
        }),
        (server) => Effect.sync(server.close),
      )
      const servers = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(servers, {
        images: { allowedNetworks: ["127.0.0.1"], maxConcurrent: 2, fetchTimeout: "60s" },
      })
      const slow = yield* Effect.forEach([1, 2, 3], (i) =>
        Effect.forkChild(client.Reason({ question: QUESTION, image: { url: `${web.url}/slow-${i}.png` } })),
      )
      assert.isTrue(yield* eventually(Effect.sync(() => stalled.length === 2)))
      // Both fetch slots are taken and a third fetch waits; an inline image is answered all the same.
      const answer = yield* client.Reason({
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { strategy: "STRATEGY_GREEDY" },
      })
      assert.isAbove(answer.conclusion.length, 0)
      assert.strictEqual(stalled.length, 2)
      yield* Effect.forEach(slow, Fiber.interrupt)
    }),
  )
})
