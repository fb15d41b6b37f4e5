// A small real PNG for Reason requests: the gateway probes every image it is sent, so the bytes must decode.
import { randomBytes } from "node:crypto"
import { crc32, deflateSync } from "node:zlib"

const chunk = (type: string, data: Buffer): Buffer => {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, "ascii"), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/** A solid-colour RGB PNG of the given size. */
export const solidPng = (width: number, height: number, rgb: readonly [number, number, number]): Buffer => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit depth, truecolour, deflate, no filter, no interlace
  const row = Buffer.alloc(1 + width * 3) // filter byte 0, then the pixels
  for (let x = 0; x < width; x++) row.set(rgb, 1 + x * 3)
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

/** The image every benchmark sends (the simulator's content model does not look at pixels). */
export const benchImage = solidPng(64, 48, [200, 40, 90])

/** A PNG of random pixels: it does not compress, so its bytes are about width × height × 3. */
export const noisePng = (width: number, height: number): Buffer => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const raw = randomBytes(height * (1 + width * 3))
  for (let row = 0; row < height; row++) raw[row * (1 + width * 3)] = 0 // each row's filter byte: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 1 })),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

/**
 * Value noise of several octaves (cells of 64 down to 2 pixels, bilinear between random lattice values), centred on
 * 0: detail at every scale, as foliage, fabric or gravel give a photograph.
 */
const octaveNoise = (width: number, height: number, random: () => number): ((x: number, y: number) => number) => {
  const octaves = [64, 32, 16, 8, 4, 2].map((cell, k) => {
    const across = Math.ceil(width / cell) + 2
    const lattice = Float32Array.from({ length: across * (Math.ceil(height / cell) + 2) }, random)
    const weight = k < 3 ? 1 : 0.6
    return (x: number, y: number) => {
      const [fx, fy] = [x / cell, y / cell]
      const [ix, iy] = [Math.floor(fx), Math.floor(fy)]
      const [tx, ty] = [fx - ix, fy - iy]
      const at = iy * across + ix
      const top = lattice[at]! * (1 - tx) + lattice[at + 1]! * tx
      const bottom = lattice[at + across]! * (1 - tx) + lattice[at + across + 1]! * tx
      return (top * (1 - ty) + bottom * ty - 0.5) * weight
    }
  })
  return (x, y) => octaves.reduce((sum, octave) => sum + octave(x, y), 0)
}

/**
 * A photo-like RGB PNG (smooth shapes, soft edges and sensor-like grain, from a seeded generator): it compresses as
 * a photograph's PNG does, unlike a solid colour (to almost nothing) or noise (not at all). `texture` adds fine
 * detail of that amplitude (octaveNoise): 0 gives a smooth picture (1600×1200 at JPEG quality 90: 181,669 bytes), 60
 * one as detailed as the photo issue #24 measured (543,813 bytes; the "544 KB").
 */
export const photoLikePng = async (width: number, height: number, seed = 1, texture = 0): Promise<Buffer> => {
  const { default: sharp } = await import("sharp")
  let state = seed >>> 0 || 1
  const random = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
  const blobs = Array.from({ length: 24 }, () => ({
    x: random() * width,
    y: random() * height,
    r: (0.05 + random() * 0.25) * Math.min(width, height),
    rgb: [random() * 255, random() * 255, random() * 255],
  }))
  const detail = texture === 0 ? undefined : octaveNoise(width, height, random)
  const pixels = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let [r, g, b] = [(x / width) * 120 + 60, (y / height) * 120 + 60, 110]
      for (const blob of blobs) {
        const d = Math.hypot(x - blob.x, y - blob.y) / blob.r
        const w = d < 1 ? 1 - d * d : 0
        r += (blob.rgb[0]! - r) * w
        g += (blob.rgb[1]! - g) * w
        b += (blob.rgb[2]! - b) * w
      }
      const grain = (random() - 0.5) * 6 + (detail === undefined ? 0 : detail(x, y) * texture)
      const at = (y * width + x) * 3
      pixels[at] = Math.max(0, Math.min(255, r + grain))
      pixels[at + 1] = Math.max(0, Math.min(255, g + grain))
      pixels[at + 2] = Math.max(0, Math.min(255, b + grain))
    }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer()
}
