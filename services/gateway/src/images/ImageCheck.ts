import { Effect } from "effect"
import sharp from "sharp"

/** Formats the model's image processor reads, by sharp's name, with their MIME types. */
const MIME_BY_FORMAT: Readonly<Record<string, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
}

export interface CheckedImage {
  readonly mime: string
  readonly width: number
  readonly height: number
}

/** Why the bytes are not an image the model can take; the caller names the field. */
export type ImageProblem = string

/**
 * Checks an image in full: the header first (format, and the pixel count against `maxPixels` before anything is
 * decoded), then every pixel is decoded once, so a truncated or corrupt image is refused here instead of upstream.
 * libvips decodes in strips, so this holds a strip, not the whole bitmap.
 */
export const checkImage = (bytes: Uint8Array, maxPixels: number): Effect.Effect<CheckedImage, ImageProblem> =>
  Effect.gen(function* () {
    const metadata = yield* Effect.tryPromise({
      try: () => sharp(bytes, { failOn: "error", limitInputPixels: false }).metadata(),
      catch: () => "is not a decodable image (PNG, JPEG, GIF or WebP expected)",
    })
    const mime = metadata.format === undefined ? undefined : MIME_BY_FORMAT[metadata.format]
    if (mime === undefined || metadata.width === undefined || metadata.height === undefined) {
      return yield* Effect.fail(`has format ${metadata.format ?? "unknown"}; PNG, JPEG, GIF or WebP expected`)
    }
    // Only the first frame of an animated image is decoded, here and by the model's processor.
    if (metadata.width * metadata.height > maxPixels) {
      return yield* Effect.fail(`has ${metadata.width}×${metadata.height} pixels; at most ${maxPixels} allowed`)
    }
    yield* Effect.tryPromise({
      try: () => sharp(bytes, { failOn: "truncated", limitInputPixels: maxPixels }).stats(),
      catch: () => "is truncated or corrupt: it does not decode in full",
    })
    return { mime, width: metadata.width, height: metadata.height }
  })
