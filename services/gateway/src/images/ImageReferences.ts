import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Schema } from "effect"
import type { EncodedImage } from "./ImagePass.ts"

/** Where the GPU servers fetch prepared images, and how long each one is served. */
export interface ImageReferences {
  /** Serves `image` until the returned `withdraw` runs (when its call ends); the URL the servers fetch. */
  readonly publish: (
    image: EncodedImage,
  ) => Effect.Effect<{ readonly url: string; readonly withdraw: Effect.Effect<void> }>
  /** Where it listens (the port a setting of 0 was given). */
  readonly address: AddressInfo
}

/** The image-reference server could not listen (a port taken, an address not here). */
export class ImageReferencesError extends Schema.TaggedError<ImageReferencesError>()("ImageReferencesError", {
  message: Schema.String,
}) {}

const TOKEN = /^\/images\/([A-Za-z0-9_-]{24})$/

/**
 * A small HTTP server for images by reference: GET /images/<token> answers the prepared image of a running call (the
 * same bytes every upstream request of its search would have carried inline) and 404 once the call has ended. Tokens
 * are 144 random bits, so a URL cannot be guessed; nothing else is served. Lives as long as the layer's scope.
 */
export const serveImageReferences = (options: { readonly url: string; readonly host: string; readonly port: number }) =>
  Effect.gen(function* () {
    const images = new Map<string, EncodedImage>()
    const base = options.url.replace(/\/$/, "")
    const server = yield* Effect.acquireRelease(
      Effect.callback<Server, ImageReferencesError>((resume) => {
        const server = createServer((request, response) => {
          const token = TOKEN.exec(request.url ?? "")?.[1]
          const image = token === undefined || request.method !== "GET" ? undefined : images.get(token)
          if (image === undefined) return response.writeHead(404, { "content-length": 0 }).end()
          response
            .writeHead(200, {
              "content-type": image.mime,
              "content-length": image.bytes.length,
              "cache-control": "no-store",
            })
            .end(image.bytes)
        })
        server.once("error", (error) =>
          resume(
            Effect.fail(
              new ImageReferencesError({
                message: `images.reference: cannot listen on ${options.host}:${options.port}: ${error.message}`,
              }),
            ),
          ),
        )
        server.listen(options.port, options.host, () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        }),
    )
    yield* Effect.logInfo("serving images by reference").pipe(
      Effect.annotateLogs({ url: base, listen: `${options.host}:${(server.address() as AddressInfo).port}` }),
    )
    const publish = (image: EncodedImage) =>
      Effect.sync(() => {
        const token = randomBytes(18).toString("base64url")
        images.set(token, image)
        return { url: `${base}/images/${token}`, withdraw: Effect.sync(() => void images.delete(token)) }
      })
    return { publish, address: server.address() as AddressInfo } satisfies ImageReferences
  })
