import { freeBytes } from "../FreeBytes.ts"
import type { EncodedImage } from "./ImagePass.ts"

const ALPHABET = Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", "latin1")
const PAD = 0x3d // "="

/** Writes `bytes` as standard, padded base64 into `out` from `at` (which has room for it). */
const encodeInto = (bytes: Uint8Array, out: Uint8Array, at: number) => {
  const whole = bytes.length - (bytes.length % 3)
  let o = at
  for (let i = 0; i < whole; i += 3) {
    const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[o] = ALPHABET[triple >>> 18]!
    out[o + 1] = ALPHABET[(triple >>> 12) & 63]!
    out[o + 2] = ALPHABET[(triple >>> 6) & 63]!
    out[o + 3] = ALPHABET[triple & 63]!
    o += 4
  }
  const left = bytes.length - whole
  if (left === 0) return
  const pair = (bytes[whole]! << 16) | (left === 2 ? bytes[whole + 1]! << 8 : 0)
  out[o] = ALPHABET[pair >>> 18]!
  out[o + 1] = ALPHABET[(pair >>> 12) & 63]!
  out[o + 2] = left === 2 ? ALPHABET[(pair >>> 6) & 63]! : PAD
  out[o + 3] = PAD
}

/**
 * The image's data: URL as one flat string, made in one allocation: the prefix and the base64 written into one
 * buffer, then read out as Latin-1. `data:…,` + base64 made the base64 string and a rope over it, which the first
 * reader flattened into a second copy (the upstream affinity key's `slice`, the body's JSON.stringify): for a
 * 1600×1200 photo scaled to 1120×840, two 170 kB strings in V8's large-object space per answer instead of one, each
 * ~1 ms of allocation, page faults and later marking (perf, bench/gateway-cpu.ts with the JPEG).
 */
export const flatDataUrl = (image: EncodedImage): string => {
  const prefix = `data:${image.mime};base64,`
  const out = Buffer.allocUnsafe(prefix.length + Math.ceil(image.bytes.length / 3) * 4)
  out.write(prefix, 0, "latin1")
  encodeInto(image.bytes, out, prefix.length)
  const url = out.toString("latin1")
  // Read out as the string: the buffer is dead (FreeBytes).
  freeBytes(out)
  return url
}
