import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import sharp from "sharp"
import { chatBodyWithImage, eventually, heldBytes, startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"

/** A 1600×1200 photo-like JPEG (gradients with grain): the pass scales it to 1120×840. */
const photo = Effect.promise(() => {
  const width = 1600
  const height = 1200
  const pixels = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3
      const grain = (x * 7 + y * 13) % 12
      pixels[at] = (x * 240) / width + grain
      pixels[at + 1] = (y * 240) / height + grain
      pixels[at + 2] = 120 + grain
    }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer()
})

/** Waits until the gauge settles above 0 (the call prepared its image), and reads it. */
const heldOnceRunning = (metricsUrl: string) =>
  Effect.gen(function* () {
    assert.isTrue(yield* eventually(Effect.map(heldBytes(metricsUrl), (bytes) => bytes > 0)))
    // Admission first holds the image's decoded cost, then what the call keeps: wait for the second.
    let last = -1
    assert.isTrue(
      yield* eventually(
        Effect.map(heldBytes(metricsUrl), (bytes) => {
          const settled = bytes === last && bytes < 1_000_000
          last = bytes
          return settled
        }),
      ),
    )
    return last
  })

describe("an inline image given back once prepared (FreeBytes)", () => {
  it.live(
    "over HTTP the request's bytes are freed once in the data URL, so admission holds the data URL only; over gRPC the message keeps them",
    () =>
      Effect.gen(function* () {
        // Slow servers: each call runs until the test ends it.
        const servers = yield* startSimulators(1, { speed: 0.1 })
        const jpeg = yield* photo
        const { client, gateway } = yield* startGatewayOver(servers, { admission: { maxRunningSequences: 4 } })

        const overHttp = yield* Effect.forkChild(
          Effect.tryPromise((signal) =>
            fetch(`${gateway.httpUrl!}/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              signal,
              body: chatBodyWithImage(QUESTION, `data:image/jpeg;base64,${jpeg.toString("base64")}`),
            }),
          ),
        )
        const http = yield* heldOnceRunning(gateway.metricsUrl)
        yield* Fiber.interrupt(overHttp)
        assert.isTrue(yield* eventually(Effect.map(heldBytes(gateway.metricsUrl), (bytes) => bytes === 0)))

        const overGrpc = yield* Effect.forkChild(client.Reason({ question: QUESTION, image: { data: jpeg } }))
        const grpc = yield* heldOnceRunning(gateway.metricsUrl)
        yield* Fiber.interrupt(overGrpc)

        // The same image scaled the same way: the one difference is the request's own bytes.
        assert.strictEqual(grpc - http, jpeg.length, `held over gRPC ${grpc}, over HTTP ${http}`)
        assert.isAbove(http, 100_000, "the scaled photo's data URL")
      }),
    60_000,
  )
})
