import { createServer } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { pngImage, startGatewayOver, startSimulators } from "./harness.ts"

/** A loopback web server with one PNG at /cat.png, a text file at /notes.txt, and 404 elsewhere. */
const imageServer = (png: Uint8Array) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly close: () => void }>((resume) => {
      const server = createServer((request, response) => {
        if (request.url === "/cat.png") return response.writeHead(200, { "content-type": "image/png" }).end(png)
        if (request.url === "/notes.txt") return response.writeHead(200, { "content-type": "text/plain" }).end("hello")
        response.writeHead(404).end()
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, close: () => server.close() }))
      })
    }),
    (server) => Effect.sync(server.close),
  )

describe("images given by URL", () => {
  it.live("are fetched once by the gateway and sent to the GPU servers inline", () =>
    Effect.gen(function* () {
      const web = yield* imageServer(yield* pngImage())
      const servers = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(servers)
      const response = yield* client.Reason({
        question: "What animal is this?",
        image: { url: `${web.url}/cat.png` },
        search: { candidatesPerStage: 2 },
      })
      assert.isAbove(response.conclusion.length, 0)

      for (const [path, message] of [
        ["/missing.png", "HTTP 404"],
        ["/notes.txt", "not a decodable image"],
      ] as const) {
        const error = yield* Effect.flip(
          client.Reason({
            question: "What animal is this?",
            image: { url: `${web.url}${path}` },
          }),
        )
        assert.strictEqual(error.code, 3)
        assert.include(error.message, "image.url")
        assert.include(error.message, message)
      }
    }),
  )
})
