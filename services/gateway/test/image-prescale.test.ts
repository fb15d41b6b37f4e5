import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import sharp from "sharp"
import { processorSize } from "../src/images/ProcessorSize.ts"
import { recordingProxy, startGateway, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"

/** A photo-like PNG: gradients with grain, so it compresses as a photograph's PNG does (2–3 bytes a pixel). */
const detailedPng = (width: number, height: number) => {
  const pixels = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3
      const grain = Math.random() * 12
      pixels[at] = (x * 240) / width + grain
      pixels[at + 1] = (y * 240) / height + grain
      pixels[at + 2] = 120 + grain
    }
  return Effect.promise(() =>
    sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  )
}

/** The image URLs of the chat requests the servers were sent. */
const imagesSent = (bodies: ReadonlyArray<Buffer>) =>
  bodies.flatMap((body) => {
    const request = JSON.parse(body.toString()) as {
      messages?: Array<{ content: string | Array<{ type: string; image_url?: { url: string } }> }>
    }
    return (request.messages ?? []).flatMap((message) =>
      typeof message.content === "string"
        ? []
        : message.content.flatMap((part) => (part.image_url === undefined ? [] : [part.image_url.url])),
    )
  })

describe("images.prescale", () => {
  it("the processor's size: the canvas of at most 4 tiles of 560 it fills, as MllamaImageProcessor computes it", () => {
    // Larger than every canvas: scaled down to fill 2×2 on its limiting side.
    assert.deepStrictEqual(processorSize({ width: 3000, height: 2000 }), { width: 1120, height: 746 })
    assert.deepStrictEqual(processorSize({ width: 2000, height: 3000 }), { width: 746, height: 1120 })
    // Wide: the 4×1 canvas, 2240 px across (more than 1120 on a side).
    assert.deepStrictEqual(processorSize({ width: 4000, height: 500 }), { width: 2240, height: 280 })
    // Between a tile and its canvas: kept (padded, not scaled); smaller than a tile: scaled up.
    assert.deepStrictEqual(processorSize({ width: 800, height: 600 }), { width: 800, height: 600 })
    assert.deepStrictEqual(processorSize({ width: 100, height: 50 }), { width: 560, height: 280 })
    // A scaled image is at its own processor size: the processor leaves it as it is.
    for (const size of [
      { width: 3000, height: 2000 },
      { width: 4000, height: 500 },
      { width: 1601, height: 1599 },
      { width: 5000, height: 5000 },
    ]) {
      const scaled = processorSize(size)
      assert.deepStrictEqual(processorSize(scaled), scaled)
    }
  })

  it.live(
    "a large image reaches every upstream call at the processor's size, encoded once; off sends it unchanged",
    () =>
      Effect.gen(function* () {
        const original = yield* detailedPng(1800, 1200)
        const servers = yield* startSimulators(1)
        const sent = (prescale: "mllama" | "off") =>
          Effect.gen(function* () {
            const proxy = yield* recordingProxy(servers[0]!.url)
            const { client } = yield* startGateway({
              pools: { generator: { endpoints: [proxy.url] } },
              images: { prescale },
            })
            yield* client.Reason({ question: QUESTION, image: { data: original }, search: { candidatesPerStage: 2 } })
            return imagesSent(
              proxy.seen.filter((request) => request.path === "/v1/chat/completions").map((r) => r.body),
            )
          }).pipe(Effect.scoped)

        const scaled = yield* sent("mllama")
        assert.isAbove(scaled.length, 4)
        assert.strictEqual(new Set(scaled).size, 1, "one encoding, the same data URL in every call")
        assert.match(scaled[0]!, /^data:image\/png;base64,/)
        const bytes = Buffer.from(scaled[0]!.split(",")[1]!, "base64")
        const metadata = yield* Effect.promise(() => sharp(bytes).metadata())
        assert.deepStrictEqual({ width: metadata.width, height: metadata.height }, { width: 1120, height: 746 })
        assert.isBelow(bytes.length, original.length)

        const unchanged = yield* sent("off")
        assert.strictEqual(new Set(unchanged).size, 1)
        assert.isTrue(Buffer.from(unchanged[0]!.split(",")[1]!, "base64").equals(original))
      }),
  )

  it.live("an image the processor keeps is sent unchanged", () =>
    Effect.gen(function* () {
      const original = yield* detailedPng(800, 600)
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const { client } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
      yield* client.Reason({ question: QUESTION, image: { data: original }, search: { candidatesPerStage: 2 } })
      const sent = imagesSent(
        proxy.seen.filter((request) => request.path === "/v1/chat/completions").map((r) => r.body),
      )
      assert.isTrue(Buffer.from(sent[0]!.split(",")[1]!, "base64").equals(original))
    }),
  )

  it.live("a JPEG photo stays a JPEG: scaled in the decode pass and never sent as a larger PNG", () =>
    Effect.gen(function* () {
      const original = yield* Effect.flatMap(detailedPng(1800, 1200), (png) =>
        Effect.promise(() => sharp(png).jpeg({ quality: 90 }).toBuffer()),
      )
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const { client } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
      yield* client.Reason({ question: QUESTION, image: { data: original }, search: { candidatesPerStage: 2 } })
      const sent = imagesSent(
        proxy.seen.filter((request) => request.path === "/v1/chat/completions").map((r) => r.body),
      )
      assert.strictEqual(new Set(sent).size, 1)
      assert.match(sent[0]!, /^data:image\/jpeg;base64,/)
      const bytes = Buffer.from(sent[0]!.split(",")[1]!, "base64")
      const metadata = yield* Effect.promise(() => sharp(bytes).metadata())
      assert.deepStrictEqual(
        { format: metadata.format, width: metadata.width, height: metadata.height },
        { format: "jpeg", width: 1120, height: 746 },
      )
      assert.isBelow(bytes.length, original.length)
    }),
  )

  it.live("a scaled JPEG keeps its source's chroma sampling: a subsampled one is sent 4:2:0, a full one 4:4:4", () =>
    Effect.gen(function* () {
      const png = yield* detailedPng(1800, 1200)
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const { client } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
      const chromaSent = (chromaSubsampling: "4:2:0" | "4:4:4") =>
        Effect.gen(function* () {
          const original = yield* Effect.promise(() => sharp(png).jpeg({ quality: 90, chromaSubsampling }).toBuffer())
          const before = proxy.seen.length
          yield* client.Reason({ question: QUESTION, image: { data: original }, search: { candidatesPerStage: 2 } })
          const sent = imagesSent(
            proxy.seen
              .slice(before)
              .filter((request) => request.path === "/v1/chat/completions")
              .map((r) => r.body),
          )
          const bytes = Buffer.from(sent[0]!.split(",")[1]!, "base64")
          const metadata = yield* Effect.promise(() => sharp(bytes).metadata())
          return { width: metadata.width, chroma: metadata.chromaSubsampling }
        })
      assert.deepStrictEqual(yield* chromaSent("4:2:0"), { width: 1120, chroma: "4:2:0" })
      assert.deepStrictEqual(yield* chromaSent("4:4:4"), { width: 1120, chroma: "4:4:4" })
    }),
  )
})
