// What the model's image processor does to an image (transformers' MllamaImageProcessor resizes with PIL, BILINEAR,
// no reducing_gap), reimplemented after Pillow's libImaging/Resample.c so a benchmark can compare pixels without
// Python: per axis, a triangle filter stretched by the scale when shrinking (support = scale), coefficients
// normalised and turned into 22-bit fixed point as ImagingResample does for 8-bit images; horizontal pass first,
// rounded to 8 bits, then vertical.

/** Interleaved 8-bit pixels. */
export interface Pixels {
  readonly width: number
  readonly height: number
  readonly channels: number
  readonly data: Uint8Array
}

const PRECISION_BITS = 32 - 8 - 2

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis, bilinear (support 1). */
const coefficients = (inSize: number, outSize: number) => {
  const scale = inSize / outSize
  const filterScale = Math.max(scale, 1)
  const support = filterScale
  const starts: Array<number> = []
  const weights: Array<Array<number>> = []
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale
    const first = Math.max(Math.trunc(center - support + 0.5), 0)
    const last = Math.min(Math.trunc(center + support + 0.5), inSize)
    const raw: Array<number> = []
    let total = 0
    for (let x = first; x < last; x++) {
      const distance = Math.abs((x - center + 0.5) / filterScale)
      const w = distance < 1 ? 1 - distance : 0
      raw.push(w)
      total += w
    }
    starts.push(first)
    weights.push(
      raw.map((w) => {
        const k = total === 0 ? w : w / total
        return k < 0 ? Math.trunc(-0.5 + k * 2 ** PRECISION_BITS) : Math.trunc(0.5 + k * 2 ** PRECISION_BITS)
      }),
    )
  }
  return { starts, weights }
}

const clip8 = (sum: number) => {
  if (sum >= 2 ** PRECISION_BITS * 256) return 255
  if (sum <= 0) return 0
  return Math.floor(sum / 2 ** PRECISION_BITS)
}

const horizontal = (image: Pixels, width: number): Pixels => {
  if (width === image.width) return image
  const { starts, weights } = coefficients(image.width, width)
  const { height, channels } = image
  const data = new Uint8Array(width * height * channels)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        let sum = 2 ** (PRECISION_BITS - 1)
        const k = weights[x]!
        for (let i = 0; i < k.length; i++) sum += image.data[(y * image.width + starts[x]! + i) * channels + c]! * k[i]!
        data[(y * width + x) * channels + c] = clip8(sum)
      }
  return { width, height, channels, data }
}

const vertical = (image: Pixels, height: number): Pixels => {
  if (height === image.height) return image
  const { starts, weights } = coefficients(image.height, height)
  const { width, channels } = image
  const data = new Uint8Array(width * height * channels)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        let sum = 2 ** (PRECISION_BITS - 1)
        const k = weights[y]!
        for (let i = 0; i < k.length; i++) sum += image.data[((starts[y]! + i) * width + x) * channels + c]! * k[i]!
        data[(y * width + x) * channels + c] = clip8(sum)
      }
  return { width, height, channels, data }
}

/** PIL `Image.resize((width, height), BILINEAR)`; the same size is a copy, as in PIL. */
export const pilBilinearResize = (image: Pixels, width: number, height: number): Pixels =>
  vertical(horizontal(image, width), height)

/** How far two images of the same size are apart: PSNR (dB, 8-bit peak), largest and mean absolute difference. */
export const difference = (a: Pixels, b: Pixels) => {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) throw new Error("sizes differ")
  let squared = 0
  let largest = 0
  let absolute = 0
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!)
    squared += d * d
    absolute += d
    if (d > largest) largest = d
  }
  const mse = squared / a.data.length
  return {
    psnr: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse),
    maxAbs: largest,
    meanAbs: absolute / a.data.length,
  }
}
