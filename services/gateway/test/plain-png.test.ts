import { crc32, deflateSync } from "node:zlib"
import { assert, describe, it } from "@effect/vitest"
import sharp, { type PngOptions } from "sharp"
import { plainPngDecodes, plainPngHeader } from "../src/images/PlainPng.ts"

const chunk = (type: string, data: Buffer): Buffer => {
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typed))
  return Buffer.concat([length, typed, crc])
}

/** An 8-bit RGB PNG of `height` rows of `width` pixels, each row with `filter` as its filter type. */
const handmadePng = (width: number, height: number, filter: number, extraRows = 0, extra: Array<Buffer> = []) => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.alloc(1 + width * 3, 0x40)
  row[0] = filter
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    ...extra,
    chunk("IDAT", deflateSync(Buffer.concat(Array.from({ length: height + extraRows }, () => row)))),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

/** A good image whose pixels are split over two IDAT chunks with a text chunk between them. */
const splitIdatPng = () => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(4, 0)
  header.writeUInt32BE(4, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const data = deflateSync(Buffer.alloc(4 * 13, 0))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", data.subarray(0, 5)),
    chunk("tEXt", Buffer.from("a\0b", "latin1")),
    chunk("IDAT", data.subarray(5)),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

const made = (channels: 1 | 2 | 3 | 4, depth: 8 | 16, options: PngOptions = {}) => {
  const grey = channels < 3
  const image = sharp({ create: { width: 37, height: 23, channels: 3, background: "#a04080" } }).toColourspace(
    grey ? (depth === 16 ? "grey16" : "b-w") : depth === 16 ? "rgb16" : "srgb",
  )
  return (channels % 2 === 0 ? image.ensureAlpha(0.5) : image).png(options).toBuffer()
}

describe("plain PNGs read without libvips", () => {
  it("read the same header as libvips for grey, grey+alpha, RGB and RGBA at 8 and 16 bits, and decode", async () => {
    for (const channels of [1, 2, 3, 4] as const)
      for (const depth of [8, 16] as const) {
        const png = await made(channels, depth)
        const metadata = await sharp(png).metadata()
        const header = plainPngHeader(png)
        assert.deepStrictEqual(
          header,
          { width: 37, height: 23, channels: metadata.channels, depth: metadata.depth as "uchar" | "ushort" },
          `${channels} channels, ${depth} bits`,
        )
        assert.isTrue(plainPngDecodes(png), `${channels} channels, ${depth} bits`)
      }
  })

  it("leave to libvips what they do not vouch for: palette, interlaced, transparency chunk, large, not a PNG", async () => {
    const palette = await sharp({ create: { width: 20, height: 20, channels: 3, background: "#123456" } })
      .png({ palette: true })
      .toBuffer()
    const interlaced = await made(3, 8, { progressive: true })
    const transparency = handmadePng(8, 8, 0, 0, [chunk("tRNS", Buffer.from([0, 1, 0, 2, 0, 3]))])
    const large = await sharp({ create: { width: 400, height: 400, channels: 3, background: "#123456" } })
      .png()
      .toBuffer()
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#123456" } })
      .jpeg()
      .toBuffer()
    for (const [name, bytes] of Object.entries({ palette, interlaced, transparency, large, jpeg })) {
      assert.isUndefined(plainPngHeader(bytes), name)
      assert.isFalse(plainPngDecodes(bytes), name)
    }
    // Each of them is still an image libvips reads.
    for (const bytes of [palette, interlaced, transparency, large])
      assert.strictEqual((await sharp(bytes).metadata()).format, "png")
  })

  it("never vouch for a broken file: cut short, a bad CRC, a bad filter type, too few or too many rows, bytes after IEND", async () => {
    const good = handmadePng(16, 12, 1)
    assert.isTrue(plainPngDecodes(good))
    const badCrc = Buffer.from(good)
    badCrc[good.length - 20]! ^= 0xff // inside IDAT
    const broken = {
      cutShort: good.subarray(0, good.length - 20),
      cutInIend: good.subarray(0, good.length - 2),
      badCrc,
      badFilter: handmadePng(16, 12, 5),
      tooFewRows: handmadePng(16, 12, 0, -1),
      tooManyRows: handmadePng(16, 12, 0, 1),
      trailing: Buffer.concat([good, Buffer.from([0])]),
      splitIdat: splitIdatPng(),
    }
    for (const [name, bytes] of Object.entries(broken)) assert.isFalse(plainPngDecodes(bytes), name)
    // libvips refuses the ones that are broken for it too (it only warns about extra rows and trailing bytes).
    for (const bytes of [broken.cutShort, broken.badCrc, broken.badFilter, broken.tooFewRows]) {
      const decoded = await sharp(bytes, { failOn: "truncated" })
        .raw()
        .toBuffer()
        .then(
          () => true,
          () => false,
        )
      assert.isFalse(decoded)
    }
  })
})
