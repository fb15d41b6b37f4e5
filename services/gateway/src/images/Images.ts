import { Context, Duration, Effect, Layer, Metric, Semaphore } from "effect"
import { GatewaySettings } from "../config/GatewaySettings.ts"
import { type InvalidField, invalidField } from "../GatewayErrors.ts"
import { imagesRefused } from "../GatewayMetrics.ts"
import { makeAddressPolicy } from "./AddressPolicy.ts"
import { type CheckedImage, checkImage } from "./ImageCheck.ts"
import { fetchImage } from "./ImageFetch.ts"
import { type EncodedImage, prescaleForProcessor } from "./Prescale.ts"

/** A request's image as it arrives: bytes in the message, or a URL the gateway fetches. */
export type ImageSource =
  | {
      readonly kind: "bytes"
      /** The request field the bytes came in ("image.data", or "image.url" for a data: URL). */
      readonly field: "image.data" | "image.url"
      readonly bytes: Uint8Array
      readonly declaredMime: string
    }
  | { readonly kind: "url"; readonly url: URL }

/**
 * A checked image: the data: URL the GPU servers get (built once per call, then the same string in every upstream
 * request of the search), and the size of the image it carries.
 */
export interface PreparedImage {
  readonly dataUrl: string
  readonly bytes: number
}

const prepared = (image: EncodedImage): PreparedImage => ({
  dataUrl: `data:${image.mime};base64,${Buffer.from(image.bytes).toString("base64")}`,
  bytes: image.bytes.length,
})

/**
 * Turns a request's image into what the GPU servers get: checked in full, as an inline data: URL. At most
 * `images.maxConcurrent` fetches and decodes run at once, so a flood of large images queues here instead of
 * filling memory; the Reasoner calls this only after the call was admitted.
 */
export class Images extends Context.Service<
  Images,
  { readonly prepare: (source: ImageSource) => Effect.Effect<PreparedImage, InvalidField> }
>()("@stagebeam/gateway/Images") {
  static readonly layer = Layer.effect(
    Images,
    Effect.gen(function* () {
      const { images } = yield* GatewaySettings
      const policy = makeAddressPolicy(images.allowedNetworks)
      const slots = yield* Semaphore.make(images.maxConcurrent)
      const limits = {
        policy,
        maxBytes: images.maxBytes,
        maxRedirects: images.maxRedirects,
        timeout: images.fetchTimeout,
      }
      // Every refused or failed fetch gets the same answer, so the gateway cannot be used to map what answers where.
      const unfetchable = invalidField(
        "image.url",
        `could not be fetched as an image (http(s) on a public address, at most ${images.maxBytes} bytes of PNG, ` +
          `JPEG, GIF or WebP, within ${Duration.format(images.fetchTimeout)})`,
      )
      const refused = (reason: string) => Metric.update(Metric.withAttributes(imagesRefused, { reason }), 1)
      /** What the servers get: scaled to the model's processor size once here (images.prescale), or as it came. */
      const encode = (bytes: Uint8Array, checked: CheckedImage) =>
        images.prescale === "mllama"
          ? prescaleForProcessor(bytes, checked, images.maxPixels)
          : Effect.succeed<EncodedImage>({ mime: checked.mime, bytes })

      const fromBytes = (field: string, bytes: Uint8Array, declaredMime: string) =>
        Effect.gen(function* () {
          const checked = yield* checkImage(bytes, images.maxPixels).pipe(
            Effect.mapError((problem) => invalidField(field, problem)),
          )
          if (declaredMime !== "" && declaredMime.toLowerCase() !== checked.mime) {
            return yield* Effect.fail(
              invalidField("image.mime_type", `says ${declaredMime} but the data is ${checked.mime}`),
            )
          }
          return prepared(
            yield* encode(bytes, checked).pipe(Effect.mapError((problem) => invalidField(field, problem))),
          )
        }).pipe(Effect.tapError(() => refused("data")))

      const fromUrl = (url: URL) =>
        Effect.gen(function* () {
          const bytes = yield* fetchImage(url, limits).pipe(
            Effect.tapError((failed) =>
              Effect.logWarning("image.url refused").pipe(
                Effect.annotateLogs({ host: failed.host, reason: failed.reason }),
              ),
            ),
          )
          const checked = yield* checkImage(bytes, images.maxPixels).pipe(
            Effect.tapError((problem) =>
              Effect.logWarning("image.url refused").pipe(Effect.annotateLogs({ host: url.host, reason: problem })),
            ),
          )
          return prepared(yield* encode(bytes, checked))
        }).pipe(
          Effect.mapError(() => unfetchable),
          Effect.tapError(() => refused("url")),
        )

      const prepare = Effect.fn("Images.prepare")((source: ImageSource) =>
        slots.withPermits(1)(
          source.kind === "bytes" ? fromBytes(source.field, source.bytes, source.declaredMime) : fromUrl(source.url),
        ),
      )
      return Images.of({ prepare })
    }),
  )
}
