import { Context, Duration, Effect, Layer, Metric, Semaphore } from "effect"
import sharp from "sharp"
import type { Lease } from "../Admission.ts"
import { GatewaySettings } from "../config/GatewaySettings.ts"
import { freeBytes } from "../FreeBytes.ts"
import { type InvalidField, invalidField, type Overloaded } from "../GatewayErrors.ts"
import { imagesRefused } from "../GatewayMetrics.ts"
import { makeAddressPolicy } from "./AddressPolicy.ts"
import { flatDataUrl } from "./DataUrl.ts"
import { fetchImage } from "./ImageFetch.ts"
import { type ImageHeader, readImageHeader } from "./ImageHeader.ts"
import { decodeAndScale, type EncodedImage } from "./ImagePass.ts"
import { serveImageReferences } from "./ImageReferences.ts"

/** A request's image as it arrives: bytes in the message, or a URL the gateway fetches. */
export type ImageSource =
  | {
      readonly kind: "bytes"
      /** The request field the bytes came in (`data`, or `url` for a data: URL). */
      readonly field: readonly ["image", "data" | "url"]
      readonly bytes: Uint8Array
      readonly declaredMime: string
    }
  | { readonly kind: "url"; readonly url: URL }

/** A request's image, its header read, before the call is admitted. */
export interface InspectedImage {
  /** What the call holds of it from admission on: its bytes, and what they cost decoded. */
  readonly heldBytes: number
  /**
   * Once the call is admitted: fetched (a URL), decoded once and scaled; the URL the GPU servers get, the same string
   * in every upstream request of the search (a data: URL, or with images.reference this gateway's URL for it). The
   * lease then holds what the call keeps of it.
   */
  readonly prepare: (lease: Lease) => Effect.Effect<PreparedImage, InvalidField | Overloaded>
}

/** The URL the GPU servers get, and whether the pass sent other bytes than the original (images.prescale). */
export interface PreparedImage {
  readonly url: string
  readonly prescaled: boolean
}

const NO_IMAGE: InspectedImage = { heldBytes: 0, prepare: () => Effect.succeed({ url: "", prescaled: false }) }

/**
 * The image as a data: URL, made flat: the base64 and the joined string are each a turn of the event loop of their
 * own (for a 20 MB image each is tens of ms of fresh memory; done together with the first request's encoding they
 * held the loop ~100 ms, bench/hostile.ts). A joined string is flattened by whatever reads it first; here, not in the
 * first upstream request's turn.
 */
const dataUrlOf = Effect.fnUntraced(function* (image: EncodedImage) {
  // Under a MB, one flat string in one allocation (DataUrl).
  if (Math.ceil(image.bytes.length / 3) * 4 < LARGE_URL_CHARS) return flatDataUrl(image)
  const base64 = Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.byteLength).toString("base64")
  yield* Effect.yieldNow
  const url = `data:${image.mime};base64,${base64}`
  url.slice(-1) // flattens it
  yield* Effect.yieldNow
  return url
})

/** Data URLs from this length on are made in steps, each a turn of the event loop of its own. */
const LARGE_URL_CHARS = 1024 * 1024

/**
 * What an image holds at most while it is prepared: its bytes, their decoded canvas (what a decoder would allocate
 * for it, every frame's canvas alike), or the data URL of the bytes if that is larger (a noisy PNG).
 */
const costOf = (bytes: number, header: ImageHeader) => bytes + Math.max(header.decodedBytes, Math.ceil(bytes / 3) * 4)

const describe = (header: ImageHeader) =>
  `${header.width}×${header.height} ${header.format}${header.frames > 1 ? `, ${header.frames} frames` : ""}`

/**
 * Turns a request's image into what the GPU servers get. Before admission the header is read (never a pixel), so an
 * image whose canvas is too large is refused at once and admission counts what it costs decoded. Once admitted, one
 * pass decodes and scales it (ImagePass). Fetches and decodes have separate pools of `images.maxConcurrent` slots:
 * slow URLs hold fetch slots only, so inline images never wait behind them, and at most that many images are decoded
 * at once. libvips' operation cache is off: it would keep decoded images (up to 50 MB) the gateway never asks for
 * again.
 */
export class Images extends Context.Service<
  Images,
  {
    /** Reads the header of an inline image (a URL is only fetched once the call is admitted). */
    readonly inspect: (source: ImageSource | undefined) => Effect.Effect<InspectedImage, InvalidField>
  }
>()("@stagebeam/gateway/Images") {
  static readonly layer = Layer.effect(
    Images,
    Effect.gen(function* () {
      const { images, admission } = yield* GatewaySettings
      sharp.cache(false)
      const references = images.reference === undefined ? undefined : yield* serveImageReferences(images.reference)
      const policy = makeAddressPolicy(images.allowedNetworks)
      const fetchSlots = yield* Semaphore.make(images.maxConcurrent)
      const decodeSlots = yield* Semaphore.make(images.maxConcurrent)
      const limits = {
        policy,
        maxBytes: images.maxBytes,
        maxRedirects: images.maxRedirects,
        timeout: images.fetchTimeout,
      }
      const passOptions = { maxPixels: images.maxPixels, prescale: images.prescale }
      // Every refused or failed fetch gets the same answer, so the gateway cannot be used to map what answers where.
      const unfetchable = invalidField(
        ["image", "url"],
        `could not be fetched as an image (http(s) on a public address, at most ${images.maxBytes} bytes of PNG, ` +
          `JPEG, GIF or WebP, within ${Duration.format(images.fetchTimeout)})`,
      )
      const refused = (reason: string) => Metric.update(Metric.withAttributes(imagesRefused, { reason }), 1)

      /** The header, and the image refused if it alone would pass what calls may hold together. */
      const header = Effect.fnUntraced(function* (bytes: Uint8Array) {
        const read = yield* readImageHeader(bytes, images.maxPixels)
        const cost = costOf(bytes.length, read)
        if (cost > admission.maxHeldBytes) {
          return yield* Effect.fail(
            `costs ${cost} bytes decoded (${describe(read)}, ${read.decodedBytes} bytes of pixels); ` +
              `the gateway holds at most ${admission.maxHeldBytes} bytes of images`,
          )
        }
        return read
      })

      /**
       * The one pass, at most `maxConcurrent` at once; then the image as the servers get it (inline, or served here by
       * reference until the call ends) and the lease down to what the call keeps (`kept` of the prepared bytes, and
       * whether the original was given back).
       */
      const pass = Effect.fnUntraced(function* (
        bytes: Uint8Array,
        read: ImageHeader,
        lease: Lease,
        held: number,
        kept: (prepared: number, originalFreed: boolean) => number,
      ) {
        const encoded = yield* decodeSlots.withPermits(1)(decodeAndScale(bytes, read, passOptions))
        const prescaled = encoded.bytes !== bytes
        if (references !== undefined) {
          const published = yield* references.publish(encoded)
          yield* lease.onEnd(published.withdraw)
          // Served from here is the scaled image, or the original itself (then kept until the call ends).
          const originalFreed = prescaled && freeBytes(bytes)
          yield* lease.releaseBytes(held - kept(encoded.bytes.length, originalFreed))
          return { url: published.url, prescaled }
        }
        const url = yield* dataUrlOf(encoded)
        // Both the original and the scaled bytes live on only in the data URL: given back now, not at a mark-compact
        // (FreeBytes; a gRPC request's bytes are a view into its message, and are left to the collector).
        if (prescaled) freeBytes(encoded.bytes)
        const originalFreed = freeBytes(bytes)
        yield* lease.releaseBytes(held - kept(url.length, originalFreed))
        return { url, prescaled }
      })

      const inspectBytes = Effect.fnUntraced(function* (source: Extract<ImageSource, { kind: "bytes" }>) {
        const read = yield* header(source.bytes).pipe(Effect.mapError((problem) => invalidField(source.field, problem)))
        if (source.declaredMime !== "" && source.declaredMime.toLowerCase() !== read.mime) {
          return yield* Effect.fail(
            invalidField(["image", "mimeType"], `says ${source.declaredMime} but the data is ${read.mime}`),
          )
        }
        const heldBytes = costOf(source.bytes.length, read)
        return {
          heldBytes,
          // The request keeps its bytes until the call ends unless the pass gave them back; the call adds the data URL.
          prepare: (lease: Lease) =>
            pass(
              source.bytes,
              read,
              lease,
              heldBytes,
              (prepared, originalFreed) => (originalFreed ? 0 : source.bytes.length) + prepared,
            ).pipe(
              Effect.mapError((problem) => invalidField(source.field, problem)),
              Effect.tapError(() => refused("data")),
              Effect.withSpan("Images.prepare", { attributes: { source: "data" } }),
            ),
        } satisfies InspectedImage
      })
      const fromBytes = (source: Extract<ImageSource, { kind: "bytes" }>) =>
        inspectBytes(source).pipe(Effect.tapError(() => refused("data")))

      const prepareUrl = Effect.fnUntraced(function* (url: URL, lease: Lease) {
        const bytes = yield* fetchSlots
          .withPermits(1)(fetchImage(url, limits))
          .pipe(
            Effect.tapError((failed) =>
              Effect.logWarning("image.url refused").pipe(
                Effect.annotateLogs({ host: failed.host, reason: failed.reason }),
              ),
            ),
            Effect.mapError(() => unfetchable),
          )
        const checked = (problem: string) =>
          Effect.logWarning("image.url refused").pipe(Effect.annotateLogs({ host: url.host, reason: problem }))
        const read = yield* header(bytes).pipe(
          Effect.tapError(checked),
          Effect.mapError(() => unfetchable),
        )
        // Counted from its arrival; once prepared only the data URL is kept.
        const held = costOf(bytes.length, read)
        yield* lease.holdBytes(held)
        return yield* pass(bytes, read, lease, held, (prepared) => prepared).pipe(
          Effect.tapError(checked),
          Effect.mapError(() => unfetchable),
        )
      })
      const fromUrl = (url: URL): InspectedImage => ({
        heldBytes: 0,
        prepare: (lease) =>
          prepareUrl(url, lease).pipe(
            Effect.tapError((error) => (error._tag === "InvalidField" ? refused("url") : Effect.void)),
            Effect.withSpan("Images.prepare", { attributes: { source: "url" } }),
          ),
      })

      const inspect = (source: ImageSource | undefined): Effect.Effect<InspectedImage, InvalidField> =>
        source === undefined
          ? Effect.succeed(NO_IMAGE)
          : source.kind === "bytes"
            ? fromBytes(source)
            : Effect.succeed(fromUrl(source.url))
      return Images.of({ inspect })
    }),
  )
}
