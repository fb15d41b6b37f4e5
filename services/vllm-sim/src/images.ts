// How many tiles Llama 3.2 Vision cuts an image into, from the image's own size (read from its header, as PIL would
// see it). The rule is transformers' MllamaImageProcessor, which vLLM 0.10.2's mllama.py calls for its inputs
// (huggingface/transformers src/transformers/models/mllama/image_processing_mllama.py `get_optimal_tiled_canvas`,
// read at commit 0350540d): the canvases are every (w, h) tile grid with w·h ≤ max_image_tiles (4), 560 px a tile; each
// canvas's scale is min(canvas_h / image_h, canvas_w / image_w); the smallest scale ≥ 1 wins (least upscaling), else
// the largest below 1 (least downscaling); among canvases of equal scale the smallest area. A 512×512 image is one tile,
// 1120×1120 four.

export interface ImageSize {
  readonly width: number
  readonly height: number
}

const u16be = (b: Buffer, at: number) => b.readUInt16BE(at)
const u16le = (b: Buffer, at: number) => b.readUInt16LE(at)

/** Width and height from a PNG, JPEG, GIF, BMP or WebP header; undefined when the header does not say. */
export const imageSize = (bytes: Buffer): ImageSize | undefined => {
  try {
    // PNG: IHDR is the first chunk, width and height big-endian at 16 and 20.
    if (bytes.length >= 24 && bytes[0] === 0x89 && bytes.toString("latin1", 12, 16) === "IHDR")
      return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
    // GIF: logical screen size, little-endian at 6 and 8.
    if (bytes.length >= 10 && bytes.toString("latin1", 0, 3) === "GIF")
      return { width: u16le(bytes, 6), height: u16le(bytes, 8) }
    // BMP: BITMAPINFOHEADER width and height (height may be negative: top-down).
    if (bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d)
      return { width: Math.abs(bytes.readInt32LE(18)), height: Math.abs(bytes.readInt32LE(22)) }
    // WebP: VP8X (24-bit sizes minus one), VP8 (14-bit), VP8L (14-bit packed).
    if (bytes.length >= 30 && bytes.toString("latin1", 0, 4) === "RIFF" && bytes.toString("latin1", 8, 12) === "WEBP") {
      const chunk = bytes.toString("latin1", 12, 16)
      if (chunk === "VP8X") return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) }
      if (chunk === "VP8 ") return { width: u16le(bytes, 26) & 0x3fff, height: u16le(bytes, 28) & 0x3fff }
      if (chunk === "VP8L") {
        const bits = bytes.readUInt32LE(21)
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 }
      }
      return undefined
    }
    // JPEG: walk the markers to the first start-of-frame (SOF0–SOF15 but DHT, JPG and DAC).
    if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
      let at = 2
      while (at + 9 < bytes.length) {
        if (bytes[at] !== 0xff) return undefined
        const marker = bytes[at + 1]!
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
          return { width: u16be(bytes, at + 7), height: u16be(bytes, at + 5) }
        at += 2 + u16be(bytes, at + 2)
      }
    }
  } catch {
    return undefined
  }
  return undefined
}

/** The tile grids a canvas may have: every (w, h) with w·h ≤ maxTiles (get_all_supported_aspect_ratios). */
const grids = (maxTiles: number): ReadonlyArray<readonly [number, number]> => {
  const all: Array<readonly [number, number]> = []
  for (let w = 1; w <= maxTiles; w++) for (let h = 1; h <= maxTiles; h++) if (w * h <= maxTiles) all.push([w, h])
  return all
}

/** Tiles of an image of this size (get_optimal_tiled_canvas): 1 to maxTiles. */
export const tilesFor = (size: ImageSize, tileSize: number, maxTiles: number): number => {
  if (!(size.width > 0 && size.height > 0)) return maxTiles
  const options = grids(maxTiles).map(([w, h]) => ({
    tiles: w * h,
    area: w * h,
    scale: Math.min((h * tileSize) / size.height, (w * tileSize) / size.width),
  }))
  const up = options.filter((o) => o.scale >= 1)
  const scale = up.length > 0 ? Math.min(...up.map((o) => o.scale)) : Math.max(...options.map((o) => o.scale))
  const chosen = options.filter((o) => o.scale === scale).sort((a, b) => a.area - b.area)[0]!
  return chosen.tiles
}

/**
 * The tiles of a prompt's images. An image whose size its header does not give (an http(s) URL the simulator cannot
 * fetch, or a stub of bytes) is taken as the largest, `maxTiles`.
 */
export const promptTiles = (sizes: ReadonlyArray<ImageSize | undefined>, tileSize: number, maxTiles: number): number =>
  sizes.reduce((sum, size) => sum + (size === undefined ? maxTiles : tilesFor(size, tileSize, maxTiles)), 0)
