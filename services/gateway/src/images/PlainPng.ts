import { crc32, inflateSync } from "node:zlib"

/**
 * A small plain PNG read and proved here, without libvips. For a thumbnail the pass's two libvips calls (the header,
 * then a decode only to prove the file whole) cost far more than the pixels: each is a turn through libuv's pool, a
 * libvips pipeline and sharp's option marshalling, ~1.5 ms of CPU per answer for a 64×48 PNG against ~0.05 ms for
 * the same checks here (bench/gateway-cpu.ts, GREEDY). Only what libpng surely decodes in full is taken: 8- or 16-bit
 * grey, grey+alpha, RGB or RGBA, not interlaced, no palette or transparency chunk (libvips would add a band), no
 * animation, IHDR first, the IDAT chunks consecutive, IEND last with nothing after it, every chunk's CRC right, the IDAT stream complete and
 * inflating to exactly the rows the header promises, each row's filter type valid. Anything else, including every
 * broken file, goes to libvips as before, which gives the same answer and words it as before: this only ever says yes.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Channels by PNG colour type: grey, RGB, grey+alpha, RGBA (palette, type 3, is left to libvips). */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 }

/** Inflated bytes up to which a PNG is proved here, on the event loop (inflating them costs well under 0.5 ms). */
const MAX_RAW_BYTES = 256 * 1024
/** Files larger than this are not walked here at all (the pixels' bytes stored, and room for ancillary chunks). */
const MAX_FILE_BYTES = MAX_RAW_BYTES + 64 * 1024

/** Ancillary chunks that change what libvips makes of the pixels or the frames: those PNGs go to libvips. */
const DECLINED = new Set(["tRNS", "acTL", "fcTL", "fdAT"])

/** What the header of a plain PNG says, in sharp's terms (`metadata()`): the same values for the same file. */
export interface PlainPngHeader {
  readonly width: number
  readonly height: number
  readonly channels: number
  readonly depth: "uchar" | "ushort"
}

interface Chunk {
  readonly type: string
  readonly data: Uint8Array
}

/** The chunks, their CRCs checked, if the file is a PNG laid out as it should be (IHDR first, IEND last and at the end). */
const chunksOf = (bytes: Uint8Array): ReadonlyArray<Chunk> | undefined => {
  if (bytes.length < SIGNATURE.length + 12 + 13 || bytes.length > MAX_FILE_BYTES) return undefined
  if (!SIGNATURE.equals(bytes.subarray(0, SIGNATURE.length))) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const chunks: Array<Chunk> = []
  let at = SIGNATURE.length
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at)
    const end = at + 12 + length
    if (end > bytes.length) return undefined
    const typed = bytes.subarray(at + 4, at + 8 + length)
    if (crc32(typed) !== view.getUint32(at + 8 + length)) return undefined
    const type = String.fromCharCode(typed[0]!, typed[1]!, typed[2]!, typed[3]!)
    chunks.push({ type, data: typed.subarray(4) })
    at = end
    if (type === "IEND") return at === bytes.length && chunks[0]!.type === "IHDR" ? chunks : undefined
  }
  return undefined
}

/** IHDR's fields, if they are ones taken here. */
const headerOf = (chunks: ReadonlyArray<Chunk>): PlainPngHeader | undefined => {
  const ihdr = chunks[0]!.data
  if (ihdr.length !== 13) return undefined
  const view = new DataView(ihdr.buffer, ihdr.byteOffset, ihdr.byteLength)
  const width = view.getUint32(0)
  const height = view.getUint32(4)
  const [bitDepth, colourType, compression, filter, interlace] = [ihdr[8]!, ihdr[9]!, ihdr[10]!, ihdr[11]!, ihdr[12]!]
  const channels = CHANNELS[colourType]
  if (channels === undefined || (bitDepth !== 8 && bitDepth !== 16)) return undefined
  if (compression !== 0 || filter !== 0 || interlace !== 0 || width === 0 || height === 0) return undefined
  if (height * rowBytes(width, channels, bitDepth) > MAX_RAW_BYTES) return undefined
  for (const chunk of chunks) {
    // Critical chunks other than these (PLTE, unknown ones) and the declined ancillary ones: libvips decides.
    const critical = chunk.type.charCodeAt(0) < 0x61
    if (critical ? !["IHDR", "IDAT", "IEND"].includes(chunk.type) : DECLINED.has(chunk.type)) return undefined
  }
  return { width, height, channels, depth: bitDepth === 16 ? "ushort" : "uchar" }
}

/** A row's bytes after inflating: its filter type, then its samples. */
const rowBytes = (width: number, channels: number, bitDepth: number) => 1 + (width * channels * bitDepth) / 8

/** The header of a small plain PNG (see above), read without libvips; undefined: ask libvips. */
export const plainPngHeader = (bytes: Uint8Array): PlainPngHeader | undefined => {
  const chunks = chunksOf(bytes)
  return chunks === undefined ? undefined : headerOf(chunks)
}

/**
 * Whether a small plain PNG decodes in full: its IDAT stream inflates completely to exactly height rows, each with a
 * valid filter type (0–4). False: ask libvips (a broken file is refused there, in its own words).
 */
export const plainPngDecodes = (bytes: Uint8Array): boolean => {
  const chunks = chunksOf(bytes)
  const header = chunks === undefined ? undefined : headerOf(chunks)
  if (chunks === undefined || header === undefined) return false
  const row = rowBytes(header.width, header.channels, header.depth === "ushort" ? 16 : 8)
  const expected = header.height * row
  const first = chunks.findIndex((chunk) => chunk.type === "IDAT")
  const idat = chunks.filter((chunk) => chunk.type === "IDAT").map((chunk) => chunk.data)
  // The IDAT chunks one after the other, as the format asks (libpng refuses others).
  if (idat.length === 0 || chunks.slice(first, first + idat.length).some((chunk) => chunk.type !== "IDAT")) return false
  let raw: Buffer
  try {
    // One byte more than promised is allowed out, so that too much data shows as a wrong length.
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: expected + 1 })
  } catch {
    return false
  }
  if (raw.length !== expected) return false
  for (let at = 0; at < expected; at += row) if (raw[at]! > 4) return false
  return true
}
