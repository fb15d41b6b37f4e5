import { Effect } from "effect"
import sharp from "sharp"
import { plainPngHeader } from "./PlainPng.ts"

/** Formats the model's image processor reads, by sharp's name, with their MIME types. */
const MIME_BY_FORMAT: Readonly<Record<string, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
}

/** Bytes per sample of libvips' band formats (sharp's `depth`). */
const BYTES_PER_SAMPLE: Readonly<Record<string, number>> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
  complex: 8,
  double: 8,
  dpcomplex: 16,
}

/** What an image's header says it will cost to decode, read before any pixel is. */
export interface ImageHeader {
  readonly format: string
  readonly mime: string
  /** The canvas a decoder allocates for one frame (a GIF's logical screen, not its first frame's rectangle). */
  readonly width: number
  readonly height: number
  readonly frames: number
  /** Bytes of one decoded frame at its bit depth and channel count: what Pillow or libvips would allocate for it. */
  readonly decodedBytes: number
  /**
   * A JPEG's chroma sampling as libvips names it: "4:2:0" for any subsampled one, "4:4:4" for a full or greyscale one,
   * "4:2:0:4" or "4:4:4:4" for CMYK; absent for the other formats.
   */
  readonly chroma?: string
}

/** What the header is read for, as sharp's `metadata()` names it. */
interface HeaderFields {
  readonly format?: string | undefined
  readonly width?: number | undefined
  readonly height?: number | undefined
  readonly pageHeight?: number | undefined
  readonly pages?: number | undefined
  readonly channels?: number | undefined
  readonly depth?: string | undefined
  readonly chromaSubsampling?: string | undefined
}

/** Why the bytes are not an image the model can take; the caller names the field. */
export type ImageProblem = string

/**
 * A GIF's logical screen (bytes 6–9, little-endian): the canvas Pillow allocates and vLLM decodes into, whatever
 * size its frames are. libvips reads a GIF whose screen is far larger than its frames as its frames' size, so the
 * screen is read here from the bytes themselves.
 */
const gifScreen = (bytes: Uint8Array): { readonly width: number; readonly height: number } | undefined =>
  bytes.length < 10 ? undefined : { width: bytes[6]! | (bytes[7]! << 8), height: bytes[8]! | (bytes[9]! << 8) }

/**
 * Reads the header only (format, size, frames, bit depth, channels) and refuses, before anything is decoded, an
 * image whose canvas passes `maxPixels` — every frame's canvas, a GIF's logical screen included — or whose GIF
 * screen disagrees with the frame libvips would decode (the servers' decoder would allocate the screen, not what was
 * checked here).
 */
export const readImageHeader: (bytes: Uint8Array, maxPixels: number) => Effect.Effect<ImageHeader, ImageProblem> =
  Effect.fnUntraced(function* (bytes: Uint8Array, maxPixels: number) {
    // A small plain PNG's header is read here (PlainPng: the same values as libvips'); any other image's by libvips.
    const plain = plainPngHeader(bytes)
    const metadata: HeaderFields =
      plain === undefined
        ? yield* Effect.tryPromise({
            try: () => sharp(bytes, { failOn: "error", limitInputPixels: false }).metadata(),
            catch: () => "is not a decodable image (PNG, JPEG, GIF or WebP expected)",
          })
        : { format: "png", ...plain }
    const mime = metadata.format === undefined ? undefined : MIME_BY_FORMAT[metadata.format]
    if (mime === undefined || metadata.width === undefined || metadata.height === undefined) {
      return yield* Effect.fail(`has format ${metadata.format ?? "unknown"}; PNG, JPEG, GIF or WebP expected`)
    }
    // libvips stacks an animation's frames; one frame is pageHeight tall, and every frame has the same canvas.
    const frameHeight = metadata.pageHeight ?? metadata.height
    const frames = metadata.pages ?? 1
    const screen = metadata.format === "gif" ? gifScreen(bytes) : undefined
    const width = Math.max(metadata.width, screen?.width ?? 0)
    const height = Math.max(frameHeight, screen?.height ?? 0)
    if (width * height > maxPixels) {
      const what = screen === undefined ? "pixels" : "pixels in its logical screen"
      return yield* Effect.fail(`has ${width}×${height} ${what}; at most ${maxPixels} allowed`)
    }
    if (screen !== undefined && (screen.width !== metadata.width || screen.height !== frameHeight)) {
      return yield* Effect.fail(
        `declares a ${screen.width}×${screen.height} logical screen but its frames decode as ` +
          `${metadata.width}×${frameHeight}`,
      )
    }
    const channels = metadata.channels ?? 4
    const bytesPerSample = BYTES_PER_SAMPLE[metadata.depth ?? "uchar"] ?? 8
    return {
      format: metadata.format!,
      mime,
      width,
      height,
      frames,
      decodedBytes: width * height * channels * bytesPerSample,
      ...(metadata.format === "jpeg" && metadata.chromaSubsampling !== undefined
        ? { chroma: metadata.chromaSubsampling }
        : {}),
    }
  })
