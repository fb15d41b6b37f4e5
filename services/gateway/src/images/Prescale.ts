import { Effect } from "effect"
import sharp from "sharp"
import type { CheckedImage } from "./ImageCheck.ts"
import { processorSize } from "./ProcessorSize.ts"

/** An image as the GPU servers get it: its bytes and their MIME type. */
export interface EncodedImage {
  readonly mime: string
  readonly bytes: Uint8Array
}

/**
 * Scales an image down, once per call, to exactly the size the model's processor would resize it to (mllama: see
 * ProcessorSize), and encodes it losslessly as PNG; the servers' processor then finds it at its target size and
 * leaves it as it is (PIL's resize to the same size is a copy), so each of a search's ~15 calls carries and decodes
 * the small image instead of the original. Resampling is bilinear, as the processor's (PIL BILINEAR); an alpha channel
 * is composited on white and embedded ICC profiles are ignored, as vLLM's loader does (ImageMediaIO: PIL, RGBA on white,
 * else `convert("RGB")`; a palette or grey image with transparency is composited here but not there). The model's input
 * then differs from the original pipeline's only by the two bilinear implementations (bench/image.ts measures it).
 * An image the processor keeps or scales up is sent unchanged, and so is one whose PNG would be larger than the
 * original (a photo's JPEG): fewer bytes is the point.
 */
export const prescaleForProcessor = (
  bytes: Uint8Array,
  checked: CheckedImage,
  maxPixels: number,
): Effect.Effect<EncodedImage, string> => {
  const target = processorSize(checked)
  const unchanged: EncodedImage = { mime: checked.mime, bytes }
  if (target.width >= checked.width && target.height >= checked.height) return Effect.succeed(unchanged)
  return Effect.tryPromise({
    try: () =>
      sharp(bytes, { limitInputPixels: maxPixels, ignoreIcc: true })
        .flatten({ background: "#ffffff" })
        .resize(target.width, target.height, { kernel: "linear", fit: "fill" })
        .png()
        .toBuffer(),
    catch: () => "could not be scaled to the model's input size",
  }).pipe(
    Effect.map((png): EncodedImage => (png.length < bytes.length ? { mime: "image/png", bytes: png } : unchanged)),
    Effect.withSpan("Images.prescale", { attributes: { width: target.width, height: target.height } }),
  )
}
