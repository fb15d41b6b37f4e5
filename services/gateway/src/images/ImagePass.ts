import { Effect } from "effect"
import sharp, { type Sharp } from "sharp"
import type { ImageHeader } from "./ImageHeader.ts"
import { plainPngDecodes } from "./PlainPng.ts"
import { processorSize } from "./ProcessorSize.ts"

/** An image as the GPU servers get it: its bytes and their MIME type. */
export interface EncodedImage {
  readonly mime: string
  readonly bytes: Uint8Array
}

/**
 * JPEG quality of a photo scaled here: the processor's input then differs from what it makes of the original by
 * 47–49 dB PSNR, under 1 of 255 on average (bench/image.ts part 2; the libvips and PIL resizes alone differ by 55 dB).
 */
const JPEG_QUALITY = 92

/**
 * A scaled JPEG gets the standard Huffman tables, not ones optimised for it: optimising is lossless but costs a
 * second pass over every coefficient — for the 1600×1200 photo scaled to 1120×840, about 8 of the pass's 27 ms of CPU,
 * for a file ~8% smaller (bench/image.ts part 1). The pixels the processor sees are the same either way.
 */
const JPEG_HUFFMAN = { optimiseCoding: false } as const

/**
 * A scaled JPEG keeps its source's chroma resolution as far as libjpeg can write it: a subsampled source is written
 * 4:2:0, a full-resolution (or greyscale, or CMYK) one 4:4:4. libvips names every subsampled JPEG "4:2:0", 4:2:2 and
 * 4:1:1 too (`find_chroma_subsample` in libvips' jpeg2vips.c), so those lose some chroma here. For the 1600×1200
 * 4:2:0 photo scaled to 1120×840: 26% fewer bytes in each of a search's ~15 requests and less of the encode, for a
 * model input 0.8 dB further from the original's (47.1 dB against 47.9, mean difference 0.81 against 0.73 of 255;
 * bench/image.ts part 2 measures both samplings), and 0.95–0.96× of the CPU per JPEG call in a paired run
 * (bench/results/gateway-cpu-chroma.txt).
 */
const chromaOf = (header: ImageHeader) => (header.chroma === "4:2:0" ? "4:2:0" : "4:4:4")

/** Below this many pixels the bitmap is cheaper to copy out than to scale (a resize costs ~0.5 ms to set up). */
const SMALL_IMAGE_PIXELS = 512 * 512

/**
 * The cheapest sink that still decodes all of the image. A large one goes to an eighth of its size, which libvips
 * reaches for a JPEG by the decoder's own DCT scaling (every coefficient is still read: a truncated file fails as at
 * full size) and for the other formats by averaging every row, instead of copying the whole bitmap out (800×600:
 * a JPEG 2.3 ms of CPU against 8.3, a PNG 8.4 against 10.1); the linear kernel reads the last rows too, so a file cut
 * short anywhere fails. A small one (the 64×48 PNG: 0.5 ms against 1.1) is copied out as it is.
 */
const proveDecode = (input: Sharp, header: ImageHeader) =>
  header.width * header.height < SMALL_IMAGE_PIXELS
    ? input.raw()
    : input.resize(Math.ceil(header.width / 8), Math.ceil(header.height / 8), { kernel: "linear", fit: "fill" }).raw()

/** What the pass is asked to do: decode the image in full, and scale it to the processor's size or not. */
export interface PassOptions {
  readonly maxPixels: number
  /** "mllama": send the image at the size the model's processor resizes it to; "off": as it came. */
  readonly prescale: "mllama" | "off"
}

/**
 * One pass over the image, in one libvips pipeline: all of it is decoded once (a truncated or corrupt image fails
 * here, not upstream) and, where the model's processor would scale the image down, resized to exactly that size
 * (mllama: see ProcessorSize) in the same pipeline, so the decoder streams strips into the resize and never holds the
 * whole bitmap. Resampling is bilinear, as the processor's (PIL BILINEAR); an alpha channel is composited on white
 * and embedded ICC profiles are ignored, as vLLM's loader does (ImageMediaIO: PIL, RGBA on white, else
 * `convert("RGB")`). The scaled image keeps its family: a JPEG stays a JPEG (quality 92, its source's chroma), the
 * rest become a lossless PNG; the original is sent instead whenever it is not larger (never a larger format). An
 * image the processor keeps or scales up, and every image with prescale off, is decoded only to prove it (to an
 * eighth of its size, every byte read: proveDecode) and sent as it came.
 */
export const decodeAndScale = (
  bytes: Uint8Array,
  header: ImageHeader,
  options: PassOptions,
): Effect.Effect<EncodedImage, string> => {
  const unchanged: EncodedImage = { mime: header.mime, bytes }
  const target = processorSize(header)
  const scalesDown = target.width < header.width || target.height < header.height
  // Made only where libvips runs: a Sharp is a stream with ~150 options set, wasted on a PNG proved in JS.
  const open = () =>
    sharp(bytes, {
      failOn: "truncated",
      limitInputPixels: options.maxPixels,
      sequentialRead: true,
      ignoreIcc: true,
    })
  if (!scalesDown || options.prescale === "off") {
    // A small plain PNG is proved without libvips (PlainPng); anything it does not vouch for goes to libvips.
    if (header.format === "png" && plainPngDecodes(bytes)) return Effect.succeed(unchanged)
    return Effect.tryPromise({
      try: () => proveDecode(open(), header).toBuffer(),
      catch: () => "is truncated or corrupt: it does not decode in full",
    }).pipe(Effect.as(unchanged))
  }
  const resized = open().flatten({ background: "#ffffff" }).resize(target.width, target.height, {
    kernel: "linear",
    fit: "fill",
  })
  const encoded =
    header.format === "jpeg"
      ? resized.jpeg({ quality: JPEG_QUALITY, chromaSubsampling: chromaOf(header), ...JPEG_HUFFMAN })
      : resized.png()
  return Effect.tryPromise({
    try: () => encoded.toBuffer(),
    catch: () => "is truncated or corrupt: it does not decode in full",
  }).pipe(
    Effect.map((scaled): EncodedImage => {
      if (scaled.length >= bytes.length) return unchanged
      return { mime: header.format === "jpeg" ? "image/jpeg" : "image/png", bytes: scaled }
    }),
    Effect.withSpan("Images.decodeAndScale", { attributes: { width: target.width, height: target.height } }),
  )
}
