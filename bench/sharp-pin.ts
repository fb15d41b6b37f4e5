// Does a sharp instance keep its input Buffer past young-generation collections? One process, no gateway: answers
// one at a time, each a fresh copy of the bench photo put through the gateway's pass (resize to the processor's size,
// JPEG 92 at 4:2:0) while young garbage is made, then dropped. Printed: external memory (Buffers included) as each
// scavenge began, (a) with no pass, (b) with the pass, (c) with the pass and the instance's reference to its input
// (sharp's `options.input.buffer`) cleared after it. Rising from scavenge to scavenge: what only a mark-compact frees.
//
// Run: node --conditions=@stagebeam/source bench/sharp-pin.ts
import { GCProfiler } from "node:v8"
import sharp from "sharp"
import { photoLikePng } from "./lib/image.ts"

const photo = await sharp(await photoLikePng(1600, 1200, 1))
  .jpeg({ quality: 90 })
  .toBuffer()
sharp.cache(false)

type Variant = "none" | "pass" | "pass, input cleared"

const pass = async (input: Buffer, clear: boolean) => {
  const instance = sharp(input, { failOn: "truncated", sequentialRead: true, ignoreIcc: true })
  const out = await instance
    .resize(1120, 840, { kernel: "linear", fit: "fill" })
    .jpeg({ quality: 92, chromaSubsampling: "4:2:0", optimiseCoding: false })
    .toBuffer()
  if (clear)
    (instance as unknown as { options: { input: { buffer: Buffer | undefined } } }).options.input.buffer = undefined
  return out.length
}

interface Collection {
  readonly gcType: string
  readonly beforeGC: { readonly heapStatistics: { readonly externalMemory: number } }
}

/** External memory (Buffers included) as each scavenge began, over `seconds` of answers, and the mark-compacts. */
const measure = async (variant: Variant, seconds: number) => {
  const profiler = new GCProfiler()
  profiler.start()
  let answers = 0
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    const input = Buffer.from(photo)
    if (variant !== "none") await pass(input, variant === "pass, input cleared")
    for (let step = 0; step < 15; step++) {
      const junk = []
      for (let j = 0; j < 1500; j++) junk.push({ j, s: `x${j}` })
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    answers++
  }
  const collections = (profiler.stop()?.statistics ?? []) as unknown as ReadonlyArray<Collection>
  const atScavenges = collections
    .filter((c) => c.gcType === "Scavenge")
    .map((c) => (c.beforeGC.heapStatistics.externalMemory / 1e6).toFixed(1))
  return { answers, atScavenges, majors: collections.filter((c) => c.gcType === "MarkSweepCompact").length }
}

console.log(`photo ${photo.length} bytes; each answer copies it (${(photo.length / 1e6).toFixed(3)} MB) first`)
for (const variant of ["none", "pass", "pass, input cleared"] as const) {
  const { answers, atScavenges, majors } = await measure(variant, 6)
  console.log(
    `${variant.padEnd(20)} ${answers} answers, ${majors} mark-compacts; external memory (MB) as each scavenge began: ${atScavenges.join(" ")}`,
  )
}
