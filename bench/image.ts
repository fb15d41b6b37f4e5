/**
 * The gateway's image pass: what it costs (CPU, memory) and what the model gets from it.
 * 1. CPU per image pass, in this process: this checkout's pass (header, then one libvips pipeline that decodes and
 *    scales) against the baseline checkout's (metadata, `stats()` as the full decode, then prescale), taking turns,
 *    on a 64×48 PNG and a 1600×1200 photo-like JPEG. CPU is process.cpuUsage (libvips' threads included).
 * 2. The model's input: what Llama 3.2 Vision's processor makes of the original (PIL bilinear resize to its canvas
 *    size, reimplemented in lib/pil-resize.ts) against what it makes of the image the gateway sends (already at that
 *    size, so the processor keeps it): PSNR and largest / mean absolute difference per 8-bit channel.
 * 3. Memory: 8 concurrent Reason calls (GREEDY), each with a 40-megapixel 16-bit PNG (6324×6324 RGBA, ~0.5 MB,
 *    320 MB decoded), sent to a gateway process over 2 simulator processes: its RSS before (after a warm-up call),
 *    at its peak (VmHWM) and 5 s after the last answer, and the answers by gRPC code; the baseline gateway, this one
 *    with its default settings (the image alone costs more than admission.maxHeldBytes: refused), this one with
 *    maxHeldBytes at 4 GiB (all 8 admitted; decodes limited by images.maxConcurrent), the same with glibc's mmap
 *    threshold fixed at 128 KiB (MALLOC_MMAP_THRESHOLD_, as deploy/k8s sets it), and a 16-bit RGB one (240 MB
 *    decoded) with the default settings (admitted one at a time by its decoded bytes).
 * 4. Per Reason call (STAGE_BEAM N=4): gateway CPU and bytes written, this gateway against the baseline's.
 * Run: IMAGE_BENCH_BASELINE=<commit, or a checkout of main> node --conditions=@stagebeam/source bench/image.ts
 * (a commit is unpacked under tmp/ as bench/lib/baseline.ts does). The machine may be
 * shared by other work: rely on the same-run ratios.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect, Schedule } from "effect"
import sharp from "sharp"
import { readImageHeader } from "../services/gateway/src/images/ImageHeader.ts"
import { decodeAndScale } from "../services/gateway/src/images/ImagePass.ts"
import { processorSize } from "../services/gateway/src/images/ProcessorSize.ts"
import { baselineCheckout } from "./lib/baseline.ts"
import { benchImage, photoLikePng } from "./lib/image.ts"
import { difference, type Pixels, pilBilinearResize } from "./lib/pil-resize.ts"
import { freePort, sampleProcess, startGatewayProcess, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { median } from "./lib/stats.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"
const MAX_PIXELS = 40_000_000
const report = makeReport("image")
const baselineDir =
  process.env.IMAGE_BENCH_BASELINE === undefined
    ? undefined
    : baselineCheckout(process.env.IMAGE_BENCH_BASELINE, "image-baseline")
/** IMAGE_BENCH_PARTS=1,4: only those parts (all by default). */
const parts = new Set((process.env.IMAGE_BENCH_PARTS ?? "1,2,3,4").split(",").map((part) => part.trim()))
sharp.cache(false)

const photoJpeg = await sharp(await photoLikePng(1600, 1200, 1))
  .jpeg({ quality: 90 })
  .toBuffer()
const photoPng = await photoLikePng(1600, 1200, 2)
const passImages = [
  { name: "64x48 PNG", bytes: benchImage },
  { name: "1600x1200 JPEG", bytes: photoJpeg },
]

report.line("Gateway image pass: CPU, the model's input, memory, and CPU/bytes per Reason call")
report.line(
  `run ${new Date().toISOString()}; machine: ${process.env.BENCH_MACHINE_NOTE ?? "2 cores shared with other work"}`,
)
report.line()

// Part 1: CPU per image pass.
if (parts.has("1")) {
  type Pass = (bytes: Uint8Array) => Promise<unknown>
  const thisPass: Pass = (bytes) =>
    Effect.runPromise(
      Effect.flatMap(readImageHeader(bytes, MAX_PIXELS), (header) =>
        decodeAndScale(bytes, header, { maxPixels: MAX_PIXELS, prescale: "mllama" }),
      ),
    )
  const baselinePass = async (): Promise<Pass | undefined> => {
    if (baselineDir === undefined) return undefined
    if (existsSync(join(baselineDir, "services/gateway/src/images/ImagePass.ts"))) {
      // A baseline with the one pass (#22 on): its header read, then its pass.
      const header = await import(join(baselineDir, "services/gateway/src/images/ImageHeader.ts"))
      const pass = await import(join(baselineDir, "services/gateway/src/images/ImagePass.ts"))
      return (bytes) =>
        Effect.runPromise(
          Effect.flatMap(header.readImageHeader(bytes, MAX_PIXELS), (read) =>
            pass.decodeAndScale(bytes, read, { maxPixels: MAX_PIXELS, prescale: "mllama" }),
          ) as Effect.Effect<unknown, unknown>,
        )
    }
    const check = await import(join(baselineDir, "services/gateway/src/images/ImageCheck.ts"))
    const prescale = await import(join(baselineDir, "services/gateway/src/images/Prescale.ts"))
    return (bytes) =>
      Effect.runPromise(
        Effect.flatMap(check.checkImage(bytes, MAX_PIXELS), (checked) =>
          prescale.prescaleForProcessor(bytes, checked, MAX_PIXELS),
        ) as Effect.Effect<unknown, unknown>,
      )
  }
  const before = await baselinePass()
  const cpuMsOf = async (pass: Pass, bytes: Uint8Array) => {
    const started = process.cpuUsage()
    await pass(bytes)
    const used = process.cpuUsage(started)
    return (used.user + used.system) / 1000
  }
  const PASSES = 15
  const passRows: Array<Array<string>> = []
  // A photo the processor keeps (within its 2×2 canvas): decoded to prove it, sent as it came.
  const keptJpeg = await sharp(await photoLikePng(1024, 768, 3))
    .jpeg({ quality: 90 })
    .toBuffer()
  for (const image of [...passImages, { name: "1024x768 JPEG (kept)", bytes: keptJpeg }]) {
    for (let i = 0; i < 3; i++) {
      await thisPass(image.bytes)
      if (before !== undefined) await before(image.bytes)
    }
    const mine: Array<number> = []
    const theirs: Array<number> = []
    for (let i = 0; i < PASSES; i++) {
      mine.push(await cpuMsOf(thisPass, image.bytes))
      if (before !== undefined) theirs.push(await cpuMsOf(before, image.bytes))
    }
    const [m, t] = [median(mine), median(theirs)]
    passRows.push([
      image.name,
      String(image.bytes.length),
      fixed(m, 2),
      `${fixed(Math.min(...mine), 2)}–${fixed(Math.max(...mine), 2)}`,
      ...(before === undefined
        ? []
        : [fixed(t, 2), `${fixed(Math.min(...theirs), 2)}–${fixed(Math.max(...theirs), 2)}`, fixed(m / t, 2)]),
    ])
  }
  report.line(
    `1. CPU per image pass (ms, median of ${PASSES} after 3 warm-ups, taking turns; range). images.prescale mllama, ` +
      `maxPixels ${MAX_PIXELS}.`,
  )
  report.table(
    ["image", "bytes", "this", "range", ...(before === undefined ? [] : ["baseline", "range", "this/baseline"])],
    passRows,
  )
  report.line()
}

// Part 2: the model's input.
if (parts.has("2")) {
  const decode = async (bytes: Uint8Array): Promise<Pixels> => {
    // vLLM's loader: RGB (alpha composited on white), embedded profiles ignored.
    const { data, info } = await sharp(bytes, { ignoreIcc: true })
      .flatten({ background: "#ffffff" })
      .raw()
      .toBuffer({ resolveWithObject: true })
    return { width: info.width, height: info.height, channels: info.channels, data }
  }
  const inputRows: Array<Array<string>> = []
  for (const image of [
    { name: "photo 1600x1200 JPEG q90", bytes: photoJpeg },
    { name: "photo 1600x1200 PNG", bytes: photoPng },
    {
      name: "photo 3000x2000 JPEG q90",
      bytes: await sharp(await photoLikePng(3000, 2000, 3))
        .jpeg({ quality: 90 })
        .toBuffer(),
    },
  ]) {
    const original = await decode(image.bytes)
    const target = processorSize(original)
    const reference = pilBilinearResize(original, target.width, target.height)
    const header = await Effect.runPromise(readImageHeader(image.bytes, MAX_PIXELS))
    // A JPEG also as the pass wrote it before it kept a subsampled source's chroma: in full (4:4:4).
    const variants =
      header.format === "jpeg"
        ? [
            { name: image.name, header },
            { name: `${image.name}, sent 4:4:4`, header: { ...header, chroma: "4:4:4" } },
          ]
        : [{ name: image.name, header }]
    for (const variant of variants) {
      const sent = await Effect.runPromise(
        decodeAndScale(image.bytes, variant.header, { maxPixels: MAX_PIXELS, prescale: "mllama" }),
      )
      const received = await decode(sent.bytes)
      const d = difference(reference, pilBilinearResize(received, target.width, target.height))
      inputRows.push([
        variant.name,
        `${target.width}x${target.height}`,
        String(image.bytes.length),
        `${sent.mime.replace("image/", "")} ${sent.bytes.length}`,
        fixed(sent.bytes.length / image.bytes.length, 3),
        Number.isFinite(d.psnr) ? fixed(d.psnr, 1) : "inf",
        String(d.maxAbs),
        fixed(d.meanAbs, 3),
      ])
    }
  }
  report.line(
    "2. Model input: processor(original) vs processor(what the gateway sends); per 8-bit channel value. A JPEG is " +
      "sent as a JPEG (quality 92, its source's chroma sampling: 4:2:0 for these; each also at 4:4:4, as it was " +
      "sent before issue #24's last stops), a PNG as a PNG.",
  )
  report.table(
    ["image", "processor size", "original B", "sent", "sent/orig", "PSNR dB", "max abs", "mean abs"],
    inputRows,
  )
  report.line()
}

// Part 3: memory under 8 concurrent 40-megapixel 16-bit PNGs.
const deepPng = (channels: 3 | 4) =>
  sharp({ create: { width: 6324, height: 6324, channels, background: { r: 10, g: 200, b: 30, alpha: 1 } } })
    .png({ compressionLevel: 9 })
    .toColourspace("rgb16")
    .toBuffer()
const rgba16 = await deepPng(4)
const rgb16 = await deepPng(3)
const sims = await Promise.all([0, 1].map(async () => startSimulatorProcess(await freePort(), 100)))
/** Every child process started, killed however this script ends (a failed call included). */
const children: Array<{ readonly child: { kill: (signal: NodeJS.Signals) => boolean } }> = [...sims]
process.on("exit", () => {
  for (const proc of children) proc.child.kill("SIGKILL")
})
const gatewayWith = async (name: string, settings: object, env: Record<string, string> = {}, checkout?: string) => {
  const config = join(tmpdir(), `stagebeam-bench-image-${process.pid}-${name.replace(/\W+/g, "-")}.json`)
  writeFileSync(config, JSON.stringify(settings))
  const gateway = await startGatewayProcess(
    { STAGEBEAM_ENDPOINTS: sims.map((s) => s.url).join(","), STAGEBEAM_CONFIG: config, ...env },
    checkout,
  )
  children.push(gateway)
  return gateway
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const MiB = 1024 * 1024
const burst = async (
  gateway: Awaited<ReturnType<typeof gatewayWith>>,
  png: Uint8Array,
): Promise<{ before: number; peak: number; after: number; codes: string }> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "300 seconds" })
      const pid = gateway.child.pid!
      yield* client.Reason({ question: QUESTION, image: { data: benchImage }, search: { strategy: "STRATEGY_GREEDY" } })
      yield* Effect.promise(() => sleep(1000))
      const beforeRss = sampleProcess(pid).rss
      const outcomes = yield* Effect.forEach(
        Array.from({ length: 8 }, (_, i) => i),
        () =>
          client.Reason({ question: QUESTION, image: { data: png }, search: { strategy: "STRATEGY_GREEDY" } }).pipe(
            Effect.map(() => "OK"),
            Effect.catch((error: { readonly code?: number }) => Effect.succeed(`code ${error.code ?? "?"}`)),
          ),
        { concurrency: "unbounded" },
      )
      yield* Effect.promise(() => sleep(5000))
      const sample = sampleProcess(pid)
      const counts = new Map<string, number>()
      for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
      return {
        before: beforeRss,
        peak: sample.peakRss,
        after: sample.rss,
        codes: [...counts].map(([code, n]) => `${n}× ${code}`).join(", "),
      }
    }).pipe(Effect.scoped),
  )
const FIXED_MMAP = { MALLOC_MMAP_THRESHOLD_: "131072" }
const roomy = { admission: { maxHeldBytes: 4 * 1024 * MiB } }
const memoryCases: Array<{
  name: string
  png: Uint8Array
  settings: object
  env?: Record<string, string>
  checkout?: string
}> = [
  ...(baselineDir === undefined
    ? []
    : [{ name: "baseline, defaults (RGBA)", png: rgba16, settings: {}, checkout: baselineDir }]),
  { name: "this, defaults (RGBA)", png: rgba16, settings: {} },
  { name: "this, maxHeldBytes 4 GiB (RGBA)", png: rgba16, settings: roomy },
  { name: "this, 4 GiB + fixed mmap threshold (RGBA)", png: rgba16, settings: roomy, env: FIXED_MMAP },
  { name: "this, defaults + fixed mmap threshold (RGB)", png: rgb16, settings: {}, env: FIXED_MMAP },
]
const memoryRows: Array<Array<string>> = []
for (const memoryCase of parts.has("3") ? memoryCases : []) {
  const gateway = await gatewayWith(memoryCase.name, memoryCase.settings, memoryCase.env, memoryCase.checkout)
  const started = performance.now()
  const result = await burst(gateway, memoryCase.png)
  gateway.child.kill("SIGKILL")
  memoryRows.push([
    memoryCase.name,
    fixed(result.before / MiB, 0),
    fixed(result.peak / MiB, 0),
    fixed(result.after / MiB, 0),
    fixed((result.after - result.before) / MiB, 0),
    fixed((performance.now() - started) / 1000 - 6, 1),
    result.codes,
  ])
  console.log(memoryRows.at(-1)!.join("  "))
}
if (parts.has("3"))
  report.line(
    `3. Memory: 8 concurrent GREEDY calls, each a 6324×6324 16-bit PNG (RGBA ${rgba16.length} B, 320 MB decoded; RGB ` +
      `${rgb16.length} B, 240 MB decoded), a gateway process over 2 simulator processes (speed 100). RSS in MiB: ` +
      "before (after a warm-up call), peak (VmHWM, whole life), 5 s after the last answer. Kubernetes limit: 1024 MiB. " +
      "codes: 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED.",
  )
if (parts.has("3")) {
  report.table(["gateway", "RSS before", "peak", "after", "after-before", "burst s", "answers"], memoryRows)
  report.line()
}

// Part 4: per Reason call.
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}
const bytesWritten = (pid: number): number =>
  Number(/^wchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1])
const CALLS = 10
const simCpu = () => sims.reduce((total, sim) => total + cpuSeconds(sim.child.pid!), 0)
const perCall = !parts.has("4")
  ? []
  : await (async () => {
      const referencePort = await freePort()
      const gateways = [
        { name: "this", proc: await gatewayWith("this-calls", {}) },
        {
          name: "this, images.reference",
          proc: await gatewayWith("this-reference", {
            images: { reference: { url: `http://127.0.0.1:${referencePort}`, host: "127.0.0.1", port: referencePort } },
          }),
        },
        ...(baselineDir === undefined
          ? []
          : [{ name: "baseline", proc: await gatewayWith("baseline-calls", {}, {}, baselineDir) }]),
      ]
      const rows: Array<Array<string>> = []
      for (const image of passImages) {
        const measured = await Effect.runPromise(
          Effect.gen(function* () {
            const clients = yield* Effect.forEach(gateways, (g) =>
              makeReasonerClient({ address: g.proc.address, defaultDeadline: "120 seconds" }),
            )
            const ask = (i: number) =>
              clients[i]!.Reason({ question: QUESTION, image: { data: image.bytes }, search: { seed: "5" } })
            // Warm-up; a gateway just started may not have probed its servers yet.
            for (let i = 0; i < clients.length; i++)
              yield* ask(i).pipe(Effect.retry({ schedule: Schedule.spaced("1 second"), times: 10 }))
            const cpu = gateways.map(() => [] as Array<number>)
            const sim = gateways.map(() => [] as Array<number>)
            const written = gateways.map(() => [] as Array<number>)
            for (let call = 0; call < CALLS; call++)
              for (let i = 0; i < gateways.length; i++) {
                const pid = gateways[i]!.proc.child.pid!
                const [c0, s0, w0] = [cpuSeconds(pid), simCpu(), bytesWritten(pid)]
                yield* ask(i)
                cpu[i]!.push((cpuSeconds(pid) - c0) * 1000)
                sim[i]!.push((simCpu() - s0) * 1000)
                written[i]!.push(bytesWritten(pid) - w0)
              }
            return gateways.map((_, i) => ({
              cpuMs: median(cpu[i]!),
              cpuRange: `${fixed(Math.min(...cpu[i]!), 0)}–${fixed(Math.max(...cpu[i]!), 0)}`,
              simMs: median(sim[i]!),
              mb: median(written[i]!) / 1e6,
            }))
          }).pipe(Effect.scoped),
        )
        const reference = measured[gateways.length - 1]!
        for (const [i, m] of measured.entries())
          rows.push([
            image.name,
            gateways[i]!.name,
            fixed(m.cpuMs, 0),
            m.cpuRange,
            fixed(m.cpuMs / reference.cpuMs, 2),
            fixed(m.mb, 2),
            fixed(m.mb / reference.mb, 2),
            fixed(m.simMs, 0),
          ])
      }
      for (const g of gateways) g.proc.child.kill("SIGKILL")
      return rows
    })()
if (parts.has("4")) {
  report.line(
    `4. Per Reason call (STAGE_BEAM N=4, seed 5, one call at a time, ${CALLS} calls per gateway after a warm-up, ` +
      "taking turns; medians and range), default settings but images.reference where named, the same 2 simulator " +
      "processes (speed 100). Gateway CPU: user+system (/proc/<pid>/stat, 10 ms ticks); MB: gateway wchar (upstream " +
      "bodies, image fetches served, answers); sim CPU: both simulator processes. Ratios against the last row.",
  )
  report.table(["image", "gateway", "CPU ms", "range", "ratio", "MB sent", "ratio", "sim CPU ms"], perCall)
}
if (baselineDir !== undefined) report.line(`baseline: the gateway of ${baselineDir}`)
report.line(
  "Simulator assumptions: vllm-sim does not look at pixels (its content model ignores the image), so parts 3 and 4 " +
    "measure the gateway's own work; the servers' decode cost is not modelled.",
)
for (const sim of sims) sim.child.kill("SIGKILL")
report.line()
report.line(`saved ${report.save()}`)
process.exit(0)
