import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import sharp from "sharp"
import { freePort, recordingProxy, startGateway, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"

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

describe("images by reference (images.reference)", () => {
  it.live("the servers fetch the prepared image from the gateway while the call runs; then it is gone", () =>
    Effect.gen(function* () {
      const photo = yield* Effect.promise(() =>
        sharp({
          create: {
            width: 1600,
            height: 1200,
            channels: 3,
            background: "#808080",
            noise: { type: "gaussian", mean: 128, sigma: 30 },
          },
        })
          .jpeg({ quality: 85 })
          .toBuffer(),
      )
      const servers = yield* startSimulators(1)
      const proxy = yield* recordingProxy(servers[0]!.url)
      const port = yield* freePort
      const { client } = yield* startGateway({
        pools: { generator: { endpoints: [proxy.url] } },
        images: { reference: { url: `http://127.0.0.1:${port}`, host: "127.0.0.1", port } },
      })
      const answer = yield* client.Reason({
        question: QUESTION,
        image: { data: photo },
        search: { candidatesPerStage: 2 },
      })
      assert.isAbove(answer.conclusion.length, 0)
      const sent = imagesSent(proxy.seen.filter((r) => r.path === "/v1/chat/completions").map((r) => r.body))
      assert.isAbove(sent.length, 4)
      assert.strictEqual(new Set(sent).size, 1, "one URL for the whole search")
      assert.match(sent[0]!, new RegExp(`^http://127\\.0\\.0\\.1:${port}/images/[A-Za-z0-9_-]{24}$`))
      // The call has ended: its image is no longer served, and a guessed token never was.
      const after = yield* Effect.promise(() => fetch(sent[0]!).then((response) => response.status))
      assert.strictEqual(after, 404)
      const guessed = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/images/${"A".repeat(24)}`).then((response) => response.status),
      )
      assert.strictEqual(guessed, 404)
    }),
  )

  it.live("a server that cannot fetch the image answers 400, and the call fails naming the upstream", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const port = yield* freePort
      // The servers are told a URL where nothing listens.
      const unreachable = yield* freePort
      const { client } = yield* startGateway({
        pools: { generator: { endpoints: [servers[0]!.url] } },
        images: { reference: { url: `http://127.0.0.1:${unreachable}`, host: "127.0.0.1", port } },
        upstream: { attempts: 1 },
      })
      const failed = yield* Effect.flip(
        client.Reason({
          question: QUESTION,
          image: {
            data: yield* Effect.promise(() =>
              sharp({ create: { width: 64, height: 48, channels: 3, background: "#ff0000" } })
                .png()
                .toBuffer(),
            ),
          },
        }),
      )
      assert.notStrictEqual(failed.code, 0)
      assert.include(failed.message, "Failed to fetch image")
    }),
  )
})
