/**
 * The HTTP door's body parse with an inline photo (the 1600×1200 JPEG of bench/gateway-cpu.ts, a 240 kB data URL):
 * CPU per parse through parseJsonBody (the data URL spliced out, its image read from the body's bytes: SplicedDataUrls) against what it did
 * before, the body's text through JSON.parse; the two taking turns in blocks, in this process (process.cpuUsage).
 * Run: node --conditions=@stagebeam/source bench/json-body.ts   (JSON_BODY_PARSES=<parses per path>, default 3000)
 */
import { Effect } from "effect"
import sharp from "sharp"
import { parseJsonBody } from "../services/gateway/src/http/JsonBody.ts"
import { photoLikePng } from "./lib/image.ts"
import { fixed } from "./lib/report.ts"

const PARSES = Number(process.env.JSON_BODY_PARSES ?? 3000)
const jpeg = await sharp(await photoLikePng(1600, 1200, 1))
  .jpeg({ quality: 90 })
  .toBuffer()
const body = Buffer.from(
  JSON.stringify({
    model: "Xkev/Llama-3.2V-11B-cot",
    messages: [
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/jpeg;base64,${jpeg.toString("base64")}` } },
          { type: "text", text: "Which shape is shown in the image?" },
        ],
      },
    ],
  }),
)
// parseJsonBody may hand its bytes to the worker (transferred), so each parse gets its own copy, made outside the
// CPU window.
const copyOf = () => {
  const copy = Buffer.from(body)
  return copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.length) as ArrayBuffer
}
const paths: ReadonlyArray<readonly [string, (bytes: ArrayBuffer) => unknown]> = [
  ["JSON.parse of the body's text (before)", (bytes) => JSON.parse(Buffer.from(bytes).toString("utf8"))],
  [
    "parseJsonBody, image spliced out (now)",
    (bytes) => Effect.runSync(parseJsonBody({ blocks: [bytes], length: bytes.byteLength }, 10_000)),
  ],
]
const first = copyOf()
// The image part's URL stays a placeholder, its image read from the body's bytes (SplicedDataUrls): parsed alike
// when that image is the JPEG's bytes and the rest of the value is the body's.
const parsedFirst = Effect.runSync(parseJsonBody({ blocks: [first], length: first.byteLength }, 10_000))
const [placeholder, image] = [...parsedFirst.dataUrls][0] ?? []
const same =
  image !== undefined &&
  "bytes" in image &&
  Buffer.from(image.bytes).equals(jpeg) &&
  JSON.stringify(parsedFirst.value).replace(
    JSON.stringify(placeholder),
    JSON.stringify(`data:image/jpeg;base64,${jpeg.toString("base64")}`),
  ) === body.toString()
const cpu = paths.map(() => 0)
const BLOCK = 100
for (let block = 0; block < PARSES / BLOCK + 1; block++)
  for (let p = 0; p < paths.length; p++) {
    const copies = Array.from({ length: BLOCK }, copyOf)
    const before = process.cpuUsage()
    for (const bytes of copies) paths[p]![1](bytes)
    const used = process.cpuUsage(before)
    if (block > 0) cpu[p]! += (used.user + used.system) / 1000 // block 0 warms up
  }
console.log(`Body: ${body.length} bytes; parsed alike: ${same}. CPU ms per parse over ${PARSES} parses per path:`)
for (let p = 0; p < paths.length; p++)
  console.log(`  ${paths[p]![0]}: ${fixed(cpu[p]! / PARSES, 3)} (${fixed(cpu[p]! / cpu[0]!, 2)}×)`)
