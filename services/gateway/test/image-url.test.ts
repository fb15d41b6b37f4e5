import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import sharp from "sharp"
import { eventually, noisePng, pngImage, startGateway, startGatewayOver, startSimulators } from "./harness.ts"

interface WebServer {
  readonly url: string
  readonly port: number
  /** TCP connections accepted, and requests served, so far. */
  readonly connections: () => number
  readonly requests: () => number
}

/**
 * A web server on `host` (loopback) with one PNG at /cat.png, a text file at /notes.txt, a redirect at /go (to
 * `redirectTo`), a body larger than any limit at /huge, and 404 elsewhere.
 */
const webServer = (png: Uint8Array, host = "127.0.0.1", redirectTo = "") =>
  Effect.acquireRelease(
    Effect.callback<WebServer & { readonly server: Server }>((resume) => {
      let connections = 0
      let requests = 0
      const server = createServer((request, response) => {
        requests++
        if (request.url === "/cat.png") return response.writeHead(200, { "content-type": "image/png" }).end(png)
        if (request.url === "/notes.txt") return response.writeHead(200, { "content-type": "text/plain" }).end("hello")
        if (request.url === "/go") return response.writeHead(302, { location: redirectTo }).end()
        if (request.url === "/loop") return response.writeHead(302, { location: "/loop" }).end()
        if (request.url === "/huge") return response.writeHead(200).end(Buffer.alloc(64 * 1024))
        response.writeHead(404).end()
      })
      server.on("connection", () => connections++)
      server.listen(0, host, () => {
        const port = (server.address() as AddressInfo).port
        resume(
          Effect.succeed({
            url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
            port,
            server,
            connections: () => connections,
            requests: () => requests,
          }),
        )
      })
    }),
    ({ server }) => Effect.sync(() => server.close()),
  )

const QUESTION = "What animal is this?"
const UNFETCHABLE = "invalid image.url: could not be fetched as an image"

describe("images given by URL", () => {
  it.live("are fetched once, after admission, by the gateway and sent to the GPU servers inline", () =>
    Effect.gen(function* () {
      const web = yield* webServer(yield* pngImage())
      const servers = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(servers, { images: { allowedNetworks: ["127.0.0.1"] } })
      const response = yield* client.Reason({
        question: QUESTION,
        image: { url: `${web.url}/cat.png` },
        search: { candidatesPerStage: 2 },
      })
      assert.isAbove(response.conclusion.length, 0)
      assert.strictEqual(web.requests(), 1)

      // A missing page, a page that is no image, a body over the size limit, a redirect loop: the same answer.
      for (const path of ["/missing.png", "/notes.txt", "/huge", "/loop"]) {
        const error = yield* Effect.flip(client.Reason({ question: QUESTION, image: { url: `${web.url}${path}` } }))
        assert.strictEqual(error.code, 3, path)
        assert.include(error.message, UNFETCHABLE, path)
      }
    }),
  )

  it.live("to loopback, private, link-local or unspecified addresses are refused alike, and never connected to", () =>
    Effect.gen(function* () {
      const web = yield* webServer(yield* pngImage())
      const { client } = yield* startGateway()
      const port = web.port
      const refused = [
        `http://127.0.0.1:${port}/cat.png`,
        `http://localhost:${port}/cat.png`,
        `http://2130706433:${port}/cat.png`,
        `http://0x7f.1:${port}/cat.png`,
        `http://[::ffff:127.0.0.1]:${port}/cat.png`,
        `http://[::1]:${port}/cat.png`,
        `http://0.0.0.0:${port}/cat.png`,
        "http://10.0.0.1/cat.png",
        "http://192.168.1.1/cat.png",
        "http://172.16.0.1/cat.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/cat.png",
        "http://224.0.0.1/cat.png",
      ]
      const messages = new Set<string>()
      for (const url of refused) {
        const error = yield* Effect.flip(client.Reason({ question: QUESTION, image: { url } }))
        assert.strictEqual(error.code, 3, url)
        messages.add(error.message)
      }
      assert.strictEqual(messages.size, 1)
      assert.include([...messages][0], UNFETCHABLE)
      assert.strictEqual(web.connections(), 0)
    }),
  )

  it.live("a redirect to an address that may not be fetched is refused before it is followed", () =>
    Effect.gen(function* () {
      const png = yield* pngImage()
      const inside = yield* webServer(png)
      // The first hop is on an allowed network (IPv6 loopback); it redirects into one that is not.
      const outside = yield* webServer(png, "::1", `${inside.url}/cat.png`)
      const servers = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(servers, { images: { allowedNetworks: ["::1"] } })
      const error = yield* Effect.flip(client.Reason({ question: QUESTION, image: { url: `${outside.url}/go` } }))
      assert.include(error.message, UNFETCHABLE)
      assert.strictEqual(outside.requests(), 1)
      assert.strictEqual(inside.connections(), 0)
    }),
  )

  it.live("are not fetched while the call waits for admission", () =>
    Effect.gen(function* () {
      const web = yield* webServer(yield* pngImage())
      const servers = yield* startSimulators(1, { speed: 1 })
      const { client } = yield* startGatewayOver(servers, {
        admission: { maxRunningSequences: 2 },
        images: { allowedNetworks: ["127.0.0.1"] },
      })
      const running = yield* Effect.forkChild(
        client.Reason({ question: QUESTION, image: { data: yield* pngImage() }, search: { candidatesPerStage: 2 } }),
      )
      assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running > 0)))
      const queued = yield* Effect.forkChild(
        client.Reason({ question: QUESTION, image: { url: `${web.url}/cat.png` }, search: { candidatesPerStage: 2 } }),
      )
      yield* Effect.sleep("300 millis")
      assert.strictEqual(web.requests(), 0)
      yield* Fiber.interrupt(running)
      assert.isTrue(yield* eventually(Effect.sync(() => web.requests() === 1)))
      yield* Fiber.interrupt(queued)
    }),
  )
})

describe("images given as bytes", () => {
  it.live("are decoded in full: a truncated image and a pixel bomb are refused naming image.data", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway({ images: { maxPixels: 4_000_000 } })
      const png = yield* Effect.promise(() =>
        sharp({ create: { width: 300, height: 200, channels: 3, background: "#336699" } })
          .png({ compressionLevel: 0 })
          .toBuffer(),
      )
      const truncated = yield* Effect.flip(
        client.Reason({ question: QUESTION, image: { data: png.subarray(0, png.length / 2) } }),
      )
      assert.strictEqual(truncated.code, 3)
      assert.include(truncated.message, "invalid image.data: is truncated or corrupt")
      const bomb = yield* Effect.promise(() =>
        sharp({ create: { width: 4000, height: 4000, channels: 3, background: "#000000" } })
          .png({ compressionLevel: 9 })
          .toBuffer(),
      )
      const refused = yield* Effect.flip(client.Reason({ question: QUESTION, image: { data: bomb } }))
      assert.strictEqual(refused.code, 3)
      assert.include(refused.message, "invalid image.data: has 4000×4000 pixels; at most 4000000 allowed")
    }),
  )

  it.live("a JPEG cut short is refused naming image.data, whether it is scaled, kept, or sent with prescale off", () =>
    Effect.gen(function* () {
      // Noise, so that the cut falls in the coefficients of the last rows, not in a flat run.
      const jpegOf = (width: number, height: number) =>
        Effect.promise(() =>
          sharp({
            create: {
              width,
              height,
              channels: 3,
              background: "#808080",
              noise: { type: "gaussian", mean: 128, sigma: 40 },
            },
          })
            .jpeg({ quality: 90 })
            .toBuffer(),
        )
      // 1600×1200 the processor scales down; 800×600 it keeps (decoded at an eighth only to prove it).
      const images = [yield* jpegOf(1600, 1200), yield* jpegOf(800, 600)]
      for (const prescale of ["mllama", "off"] as const) {
        const { client } = yield* startGateway({ images: { prescale } })
        for (const jpeg of images) {
          for (const cut of [jpeg.length - 200, Math.floor(jpeg.length / 2)]) {
            const refused = yield* Effect.flip(
              client.Reason({ question: QUESTION, image: { data: jpeg.subarray(0, cut) } }),
            )
            assert.strictEqual(refused.code, 3, `prescale ${prescale}, ${jpeg.length} bytes cut at ${cut}`)
            assert.include(refused.message, "invalid image.data: is truncated or corrupt")
          }
          // Whole, the same image is answered.
          const answer = yield* client.Reason({ question: QUESTION, image: { data: jpeg } })
          assert.isAbove(answer.conclusion.length, 0)
        }
      }
    }),
  )

  it.live("calls whose images would pass the held-bytes budget are refused at once with RESOURCE_EXHAUSTED", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { speed: 1 })
      const png = yield* noisePng()
      // A call holds its bytes and what they cost decoded (or their data URL, when that is larger: noise).
      const cost = png.length + Math.max(300 * 300 * 3, Math.ceil(png.length / 3) * 4)
      const { client, gateway } = yield* startGatewayOver(servers, {
        admission: { maxHeldBytes: cost * 2 },
        images: { maxBytes: png.length * 2 },
      })
      const request = { question: QUESTION, image: { data: png }, search: { candidatesPerStage: 2 } }
      const held = yield* Effect.forEach([1, 2], () => Effect.forkChild(client.Reason(request)))
      // Both held: the servers' running count would show only that the first has arrived.
      const heldBytes = Effect.promise(() =>
        fetch(gateway.metricsUrl)
          .then((response) => response.text())
          .then((text) => Number(/^stagebeam_admission_held_bytes(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? -1)),
      )
      assert.isTrue(yield* eventually(Effect.map(heldBytes, (bytes) => bytes === 2 * cost)))
      const refused = yield* Effect.flip(client.Reason(request))
      assert.strictEqual(refused.code, 8)
      assert.include(refused.message, "image bytes")
      yield* Effect.forEach(held, Fiber.interrupt)
    }),
  )
})
