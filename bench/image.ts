/**
 * The image once, not fifteen times (images.prescale). Two parts:
 * 1. The model's input: for each image, what Llama 3.2 Vision's processor makes of the original (PIL bilinear resize
 *    to its canvas size, reimplemented in lib/pil-resize.ts) against what it makes of the gateway's pre-scaled PNG
 *    (already at that size, so the processor keeps it): PSNR, largest and mean absolute difference per 8-bit channel,
 *    and the same for sharp's default kernel (lanczos3) to show why the gateway resamples bilinearly.
 * 2. Bytes sent upstream and gateway CPU per Reason call (STAGE_BEAM N=4, the default search), a gateway process
 *    over 2 simulator processes: prescale off (the baseline, same run) vs mllama, per image, and a 64×48 PNG as the
 *    floor. CPU is user + system of the gateway process (/proc/<pid>/stat); bytes are what it wrote (/proc/<pid>/io
 *    wchar: the upstream request bodies, plus the small gRPC answers).
 * Run: node --conditions=@stagebeam/source bench/image.ts
 */
import { readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect } from "effect"
import sharp from "sharp"
import { processorSize } from "../services/gateway/src/images/ProcessorSize.ts"
import { benchImage, photoLikePng } from "./lib/image.ts"
import { difference, type Pixels, pilBilinearResize } from "./lib/pil-resize.ts"
import { freePort, startGatewayProcess, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { median } from "./lib/stats.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"
const CALLS = 8
const report = makeReport("image")

const decode = async (bytes: Uint8Array): Promise<Pixels> => {
  // vLLM's loader: RGB (alpha composited on white), embedded profiles ignored.
  const { data, info } = await sharp(bytes, { ignoreIcc: true })
    .flatten({ background: "#ffffff" })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { width: info.width, height: info.height, channels: info.channels, data }
}

const images = [
  { name: "photo 1600x1200", bytes: await photoLikePng(1600, 1200, 1) },
  { name: "photo 3000x2000", bytes: await photoLikePng(3000, 2000, 2) },
  { name: "wide photo 4000x500", bytes: await photoLikePng(4000, 500, 3) },
  { name: "photo 800x600 (kept)", bytes: await photoLikePng(800, 600, 4) },
]

// Part 1: the model's input.
report.line("images.prescale: what the model's processor gets, and what the gateway sends and spends")
report.line()
report.line(
  "1. Model input: processor(original) = PIL bilinear resize of the original to the processor's size; " +
    "processor(pre-scaled) = the gateway's PNG, already at that size (PIL keeps it). Per 8-bit channel value.",
)
const inputRows: Array<Array<string>> = []
for (const image of images) {
  const original = await decode(image.bytes)
  const target = processorSize(original)
  const reference = pilBilinearResize(original, target.width, target.height)
  const scaled = async (kernel: "linear" | "lanczos3") =>
    decode(
      await sharp(image.bytes, { ignoreIcc: true })
        .flatten({ background: "#ffffff" })
        .resize(target.width, target.height, { kernel, fit: "fill" })
        .png()
        .toBuffer(),
    )
  const kept = target.width >= original.width
  const linear = kept ? original : await scaled("linear")
  const lanczos = kept ? original : await scaled("lanczos3")
  const sentPng = kept
    ? image.bytes
    : await sharp(image.bytes, { ignoreIcc: true })
        .flatten({ background: "#ffffff" })
        .resize(target.width, target.height, { kernel: "linear", fit: "fill" })
        .png()
        .toBuffer()
  const d = difference(reference, pilBilinearResize(linear, target.width, target.height))
  const l = difference(reference, pilBilinearResize(lanczos, target.width, target.height))
  inputRows.push([
    image.name,
    `${target.width}x${target.height}`,
    String(image.bytes.length),
    String(sentPng.length),
    fixed(sentPng.length / image.bytes.length, 3),
    Number.isFinite(d.psnr) ? fixed(d.psnr, 1) : "inf",
    String(d.maxAbs),
    fixed(d.meanAbs, 3),
    Number.isFinite(l.psnr) ? fixed(l.psnr, 1) : "inf",
    String(l.maxAbs),
  ])
}
report.table(
  [
    "image",
    "processor size",
    "original B",
    "sent B",
    "sent/orig",
    "PSNR dB (linear)",
    "max abs",
    "mean abs",
    "PSNR dB (lanczos3)",
    "max abs",
  ],
  inputRows,
)
report.line()

// Part 2: bytes and CPU per Reason call.
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}
const bytesWritten = (pid: number): number =>
  Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1])

const sims = await Promise.all([0, 1].map(async () => startSimulatorProcess(await freePort(), 100)))
const gatewayWith = async (prescale: "mllama" | "off" | undefined, checkout?: string) => {
  const config = join(tmpdir(), `stagebeam-bench-image-${process.pid}-${prescale ?? "baseline"}.json`)
  writeFileSync(config, JSON.stringify(prescale === undefined ? {} : { images: { prescale } }))
  const endpoints = sims.map((s) => s.url).join(",")
  return startGatewayProcess({ STAGEBEAM_ENDPOINTS: endpoints, STAGEBEAM_CONFIG: config }, checkout)
}
/**
 * IMAGE_BENCH_BASELINE=<dir>: also a gateway from another checkout (e.g. main before this change, unpacked with
 * `git archive`), its settings' defaults, as a third column in the same run.
 */
const baselineCheckout = process.env.IMAGE_BENCH_BASELINE

/**
 * The same image through both gateways, call by call in turn (off, mllama, off, …), so that the machine's load
 * (shared with other work) falls on both alike; per-call medians.
 */
const measureInTurns = (
  gateways: ReadonlyArray<{ readonly address: string; readonly pid: number }>,
  bytes: Uint8Array,
) =>
  Effect.gen(function* () {
    const clients = yield* Effect.forEach(gateways, (gateway) =>
      makeReasonerClient({ address: gateway.address, defaultDeadline: "120 seconds" }),
    )
    const ask = (i: number) => clients[i]!.Reason({ question: QUESTION, image: { data: bytes }, search: { seed: "5" } })
    for (let i = 0; i < clients.length; i++) yield* ask(i) // warm-up: JIT, connections, the pool's probe
    const cpu = gateways.map(() => [] as Array<number>)
    const written = gateways.map(() => [] as Array<number>)
    for (let call = 0; call < CALLS; call++)
      for (let i = 0; i < gateways.length; i++) {
        const pid = gateways[i]!.pid
        const [c0, w0] = [cpuSeconds(pid), bytesWritten(pid)]
        yield* ask(i)
        cpu[i]!.push((cpuSeconds(pid) - c0) * 1000)
        written[i]!.push(bytesWritten(pid) - w0)
      }
    return gateways.map((_, i) => ({ cpuMs: median(cpu[i]!), bytes: median(written[i]!) }))
  }).pipe(Effect.scoped)

const gateways = {
  off: await gatewayWith("off"),
  mllama: await gatewayWith("mllama"),
  baseline: baselineCheckout === undefined ? undefined : await gatewayWith(undefined, baselineCheckout),
}
const compared = [gateways.off, gateways.mllama, ...(gateways.baseline === undefined ? [] : [gateways.baseline])]
report.line(
  `2. Per Reason call (STAGE_BEAM N=4, seed 5, one call at a time, ${CALLS} calls per setting after a warm-up, taking turns; medians), a gateway ` +
    "process per setting over the same 2 simulator processes (speed 100). CPU: gateway user+system; bytes: gateway " +
    "wchar (upstream bodies + answers). Ratios: mllama / off, same run.",
)
const rows: Array<Array<string>> = []
// The 3000x2000 photo is left out here: sent as it came it is 15 MB of JSON per request, and the simulators (on the
// same 2 cores) fall behind their health checks.
const measured = [
  { name: "64x48 PNG (floor)", bytes: benchImage },
  ...images.filter((image) => !image.name.includes("3000")),
]
for (const image of measured) {
  const [off, on, before] = await Effect.runPromise(
    measureInTurns(
      compared.map((g) => ({ address: g.address, pid: g.child.pid! })),
      image.bytes,
    ),
  )
  if (off === undefined || on === undefined) throw new Error("unreachable")
  rows.push([
    image.name,
    String(image.bytes.length),
    fixed(off.bytes / 1e6, 2),
    fixed(on.bytes / 1e6, 2),
    fixed(on.bytes / off.bytes, 3),
    fixed(off.cpuMs, 0),
    fixed(on.cpuMs, 0),
    fixed(on.cpuMs / off.cpuMs, 2),
    ...(before === undefined
      ? []
      : [fixed(before.bytes / 1e6, 2), fixed(before.cpuMs, 0), fixed(on.cpuMs / before.cpuMs, 2)]),
  ])
}
report.table(
  [
    "image",
    "image B",
    "MB sent off",
    "MB sent mllama",
    "ratio",
    "CPU ms off",
    "CPU ms mllama",
    "ratio",
    ...(gateways.baseline === undefined ? [] : ["MB sent baseline", "CPU ms baseline", "mllama/baseline"]),
  ],
  rows,
)
if (baselineCheckout !== undefined) report.line(`baseline: the gateway of ${baselineCheckout}, default settings`)
for (const proc of [...sims, ...compared]) proc.child.kill("SIGKILL")
report.line()

// Part 3: building one request body. The data URL is base64-encoded once per call (Images.prepare); what every
// request repeats is the SDK's JSON.stringify of the body and the UTF-8 copy of the string fetch sends. Splicing a
// JSON string encoded once into each body would skip both; measured here in this process, per request.
const bodyWith = (url: string) => ({
  model: "Xkev/Llama-3.2V-11B-cot",
  messages: [
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url } },
        { type: "text", text: QUESTION },
      ],
    },
  ],
  n: 4,
  seed: 5,
  temperature: 0.6,
  top_p: 0.9,
  max_tokens: 2048,
})
const REPEAT = 30
const perRequestMs = (work: () => number) => {
  for (let i = 0; i < 3; i++) work()
  const started = performance.now()
  let sink = 0
  for (let i = 0; i < REPEAT; i++) sink += work()
  if (sink < 0) throw new Error("unreachable")
  return (performance.now() - started) / REPEAT
}
const placeholder = "stagebeam-image-placeholder"
const bodyRows: Array<Array<string>> = []
for (const [name, bytes] of [
  ["photo 1600x1200 as it came", images[0]!.bytes],
  [
    "photo 1600x1200 pre-scaled",
    await sharp(images[0]!.bytes).resize(1120, 840, { kernel: "linear" }).png().toBuffer(),
  ],
] as const) {
  const url = `data:image/png;base64,${Buffer.from(bytes).toString("base64")}`
  const stringified = perRequestMs(() => Buffer.from(JSON.stringify(bodyWith(url))).length)
  const encodedOnce = Buffer.from(JSON.stringify(url))
  const spliced = perRequestMs(() => {
    const text = JSON.stringify(bodyWith(placeholder))
    const at = text.indexOf(`"${placeholder}"`)
    return Buffer.concat([
      Buffer.from(text.slice(0, at)),
      encodedOnce,
      Buffer.from(text.slice(at + placeholder.length + 2)),
    ]).length
  })
  bodyRows.push([
    name,
    fixed(url.length / 1e6, 2),
    fixed(stringified, 2),
    fixed(spliced, 2),
    fixed(spliced / stringified, 2),
  ])
}
report.line(
  `3. One request body, per request (mean of ${REPEAT}): JSON.stringify + UTF-8 copy vs a pre-encoded image spliced in`,
)
report.table(["image", "data URL MB", "stringify ms", "spliced ms", "ratio"], bodyRows)
report.line()
report.line(`saved ${report.save()}`)
process.exit(0)
