/**
 * The gateway's own cost (issue #24): CPU per answer and per upstream call, this checkout's gateway against a
 * baseline gateway from another checkout, in the same run, taking turns block by block so that the machine's other
 * load falls on both alike.
 * - GREEDY and STAGE_BEAM N=2/4/8 (default schedule otherwise), with a small PNG (64×48) and two 1600×1200 JPEGs
 *   (photo-like pictures encoded by sharp at quality 90: a smooth one, 177 kB, and a detailed one, 531 kB, the size
 *   of the photo issue #24 measured), over gRPC and over the HTTP door (POST /v1/chat/completions).
 * - Idle: both gateways over 8 simulated servers with no calls, CPU per second (in windows, for their spread).
 * - The projected knee: how many real-time H100 servers one dedicated gateway core keeps busy, from this run's CPU per
 *   answer (see `knee` below for the formula and what it rests on).
 * - First, the transport alone, in this process: one non-streamed chat call (N=4, max_tokens 64) to a simulator, CPU
 *   per call through the openai SDK over Node's fetch (the baseline's transport), the SDK over the lean transport
 *   (this checkout's), and undici.request directly with the answer checked (the floor): the SDK's own share.
 * CPU is the gateway process's run time summed over its threads (/proc/<pid>/task/<tid>/schedstat, nanoseconds; the
 * 10 ms ticks of /proc/<pid>/stat were too coarse for a few answers), read around each block of answers; upstream
 * calls are the gateway's own stagebeam_upstream_requests_total (scraped outside the CPU window). Each setting runs
 * GATEWAY_CPU_BLOCKS blocks of GATEWAY_CPU_BLOCK_ANSWERS answers per gateway, in rounds: every round has one block of
 * every setting (doors, images and searches interleaved) and gateway, the two gateways alternating which goes first;
 * figures are over all blocks, with the spread (lowest–highest) across blocks, and each round's figure is printed in
 * order (does the cost still fall?).
 * Simulator assumptions: vllm-sim processes (--speed 100: a call's modelled GPU time runs 100× faster than a real
 * H100), on the same cores as the gateways; their token timings set how many calls overlap, not the gateway's CPU per
 * call.
 *
 * Run: node --conditions=@stagebeam/source bench/gateway-cpu.ts
 *   GATEWAY_CPU_BASELINE=<commit or dir> (default bb10965, the main this work started from, unpacked with `git
 *   archive` under tmp/, its workspace packages linked to its own sources; "none": no baseline);
 *   GATEWAY_CPU_BLOCKS=<blocks per gateway and setting> (default 4); GATEWAY_CPU_BLOCK_ANSWERS=<answers per block>
 *   (default 6); GATEWAY_CPU_WARMUP_S=<seconds of the warm-up tour over every setting> (default 40);
 *   GATEWAY_CPU_DOORS=grpc,http; GATEWAY_CPU_IMAGES=png,jpeg,detailed; GATEWAY_CPU_SEARCHES=<labels, e.g.
 *   GREEDY,N=4> (default all); GATEWAY_CPU_PARTS=transport,answers,idle; GATEWAY_CPU_IDLE_S=<seconds> (default 20);
 *   GATEWAY_CPU_SERVER_ANSWERS_PER_S=<one real-time H100 server's answers/s at full batch> (default 0.43, from
 *   bench/results/scaling.txt); GATEWAY_CPU_PROFILE_DIR=<dir>: this checkout's gateway runs with --cpu-prof there
 *   (read the profile with bench/lib/cpuprofile.ts); GATEWAY_CPU_NODE_OPTIONS=<options>: NODE_OPTIONS for this
 *   checkout's gateway only (e.g. --import=./bench/lib/heap-watch.ts, which reports what its collections promote);
 *   GATEWAY_CPU_NODE_ARGS=<flags>: on the command line of this checkout's gateway only, for V8 flags NODE_OPTIONS
 *   refuses (e.g. `--log-maps --log-maps-details --logfile=<file> --no-logfile-per-isolate`, whose log
 *   bench/lib/generator-maps.ts reads: the generator functions made per call); GATEWAY_CPU_GATEWAY_OUTPUT=<file>: this
 *   checkout's gateway's output also appended there (with `GATEWAY_CPU_NODE_ARGS=--trace-gc`, its collections);
 *   GATEWAY_CPU_SETTINGS=<STAGEBEAM_KEY=value,...>: settings of this checkout's gateway only (with the baseline the
 *   same commit, what one setting costs: `STAGEBEAM_IMAGES_PRESCALE=off`, say).
 */
import { readdirSync, readFileSync } from "node:fs"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { checkAnswer, makeLeanTransport } from "@stagebeam/fleet"
import { makeReasonerClient, type ReasonerClient } from "@stagebeam/proto"
import { Effect, Scope } from "effect"
import OpenAI from "openai"
import sharp from "sharp"
import { Agent, request } from "undici"
import { flatDataUrl } from "../services/gateway/src/images/DataUrl.ts"
import { readImageHeader } from "../services/gateway/src/images/ImageHeader.ts"
import { decodeAndScale } from "../services/gateway/src/images/ImagePass.ts"
import { baselineCheckout } from "./lib/baseline.ts"
import { benchImage, photoLikePng } from "./lib/image.ts"
import { projectedKnee } from "./lib/knee.ts"
import { freePort, startGatewayProcess, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, machineLine, makeReport } from "./lib/report.ts"

const list = (name: string, all: string) => (process.env[name] ?? all).split(",").filter((item) => item !== "")
const BASELINE = process.env.GATEWAY_CPU_BASELINE ?? "bb10965"
const BLOCKS = Number(process.env.GATEWAY_CPU_BLOCKS ?? 4)
const BLOCK_ANSWERS = Number(process.env.GATEWAY_CPU_BLOCK_ANSWERS ?? 6)
const WARMUP_S = Number(process.env.GATEWAY_CPU_WARMUP_S ?? 40)
const DOORS = list("GATEWAY_CPU_DOORS", "grpc,http")
const IMAGES = list("GATEWAY_CPU_IMAGES", "png,jpeg,detailed")
const SEARCHES = list("GATEWAY_CPU_SEARCHES", "")
const PARTS = list("GATEWAY_CPU_PARTS", "transport,answers,idle")
const IDLE_S = Number(process.env.GATEWAY_CPU_IDLE_S ?? 20)
const SERVER_ANSWERS_PER_S = Number(process.env.GATEWAY_CPU_SERVER_ANSWERS_PER_S ?? 0.43)
const PROFILE_DIR = process.env.GATEWAY_CPU_PROFILE_DIR
/** NODE_OPTIONS of this checkout's gateway only: a CPU profile when asked, and GATEWAY_CPU_NODE_OPTIONS. */
const ownNodeOptions = [
  PROFILE_DIR === undefined ? "" : `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}`,
  process.env.GATEWAY_CPU_NODE_OPTIONS ?? "",
]
  .filter((option) => option !== "")
  .join(" ")
const ownNodeArgs = (process.env.GATEWAY_CPU_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "")
const ownOutput = process.env.GATEWAY_CPU_GATEWAY_OUTPUT
/** Settings of this checkout's gateway only, as environment overrides (`STAGEBEAM_IMAGES_PRESCALE=off`, say). */
const ownSettings = Object.fromEntries(
  list("GATEWAY_CPU_SETTINGS", "").map((pair) => {
    const at = pair.indexOf("=")
    if (!pair.startsWith("STAGEBEAM_") || at === -1)
      throw new Error(`GATEWAY_CPU_SETTINGS: "${pair}" is no STAGEBEAM_KEY=value`)
    return [pair.slice(0, at), pair.slice(at + 1)]
  }),
)
const SPEED = 100
const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"
const report = makeReport(process.env.GATEWAY_CPU_RESULTS ?? "gateway-cpu")

/**
 * CPU seconds the process has run, summed over its threads (schedstat: nanoseconds, not the 10 ms ticks of
 * /proc/<pid>/stat). A thread that ended between two readings takes its time with it: the gateway's threads (libuv's
 * pool, V8's helpers, sharp's) live as long as it does.
 */
const cpuSeconds = (pid: number): number => {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0])
    } catch {
      // The thread ended while the list was read.
    }
  }
  return ns / 1e9
}

/** The same from /proc/<pid>/stat (10 ms ticks, threads ended included): a check on the schedstat sums. */
const cpuSecondsByTicks = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/**
 * What a gateway's /metrics says (read outside the CPU windows): its upstream calls (stagebeam_upstream_requests_total)
 * and its major garbage collections (nodejs_gc_runs_total{kind="major"}; undefined for a gateway that does not count
 * them, such as an older baseline).
 */
const scrape = async (metricsUrl: string): Promise<{ readonly upstream: number; readonly majors?: number }> => {
  const text = await fetch(metricsUrl).then((response) => response.text())
  let upstream = 0
  for (const match of text.matchAll(/^stagebeam_upstream_requests_total(?:\{[^}]*\})? (\S+)/gm))
    upstream += Number(match[1])
  const majors = /^nodejs_gc_runs_total\{kind="major"\} (\S+)/m.exec(text)
  const counted = text.includes("# HELP nodejs_gc_runs_total")
  return counted ? { upstream, majors: Number(majors?.[1] ?? 0) } : { upstream }
}

interface BenchImage {
  readonly key: string
  readonly name: string
  /** The first picture (the transport part sends it, its size names the image). */
  readonly bytes: Buffer
  readonly mime: string
  /** The picture an answer of this seed sends. */
  readonly pictureFor: (seed: number) => Promise<Buffer>
}
const png: BenchImage = {
  key: "png",
  name: "PNG 64x48",
  bytes: benchImage,
  mime: "image/png",
  pictureFor: async () => benchImage,
}
/**
 * A photo whose every answer's picture is its own: the same photo with a 16×16 patch in its corner coloured by the
 * seed, encoded at quality 90 for each answer (by this process, before the block's CPU window). With one picture
 * for every answer, the gateway's process-wide cache of encoded image URLs (fleet's ImageSplice) would hit from the
 * second answer on, as it rarely does for real traffic; both gateways get the same pictures (the same seeds).
 */
const photoJpeg = async (key: string, texture: number): Promise<BenchImage> => {
  const { data, info } = await sharp(await photoLikePng(1600, 1200, 1, texture))
    .raw()
    .toBuffer({ resolveWithObject: true })
  const encode = (pixels: Buffer) => sharp(pixels, { raw: info }).jpeg({ quality: 90 }).toBuffer()
  const first = await encode(data)
  // The last pictures made, by seed: a block's are made before its CPU window (measureAll), and the other gateway's
  // block of the same seeds finds them.
  const made = new Map<number, Promise<Buffer>>()
  return {
    key,
    name: `JPEG 1600x1200 (${Math.round(first.length / 1024)} kB)`,
    bytes: first,
    mime: "image/jpeg",
    pictureFor: (seed) => {
      const known = made.get(seed)
      if (known !== undefined) return known
      const pixels = Buffer.from(data)
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++)
          pixels.set([seed & 255, (seed >> 8) & 255, 128], (y * info.width + x) * info.channels)
      const picture = encode(pixels)
      made.set(seed, picture)
      for (const oldest of made.keys()) {
        if (made.size <= 4 * BLOCK_ANSWERS) break
        made.delete(oldest)
      }
      return picture
    },
  }
}
const images = [
  ...(IMAGES.includes("png") ? [png] : []),
  ...(IMAGES.includes("jpeg") ? [await photoJpeg("jpeg", 0)] : []),
  // As detailed as the photo issue #24 measured (544 kB): the pass decodes more and each request carries ~3× the bytes.
  ...(IMAGES.includes("detailed") ? [await photoJpeg("detailed", 60)] : []),
]

interface Config {
  readonly label: string
  readonly strategy: "GREEDY" | "STAGE_BEAM"
  readonly n: number
}
const allConfigs: ReadonlyArray<Config> = [
  { label: "GREEDY", strategy: "GREEDY", n: 1 },
  { label: "STAGE_BEAM N=2", strategy: "STAGE_BEAM", n: 2 },
  { label: "STAGE_BEAM N=4", strategy: "STAGE_BEAM", n: 4 },
  { label: "STAGE_BEAM N=8", strategy: "STAGE_BEAM", n: 8 },
]
const configs = allConfigs.filter(
  (config) => SEARCHES.length === 0 || SEARCHES.some((wanted) => config.label.endsWith(wanted)),
)
const N4 = allConfigs[2]!

type Gateway = Awaited<ReturnType<typeof startGatewayProcess>>

/** A gateway over `sims`: this checkout's (profiled when asked), or the baseline's from `checkout`. */
const start = async (sims: ReadonlyArray<{ readonly url: string }>, checkout?: string) =>
  startGatewayProcess(
    {
      STAGEBEAM_ENDPOINTS: sims.map((s) => s.url).join(","),
      ...(checkout === undefined && ownNodeOptions !== "" ? { NODE_OPTIONS: ownNodeOptions } : {}),
      ...(checkout === undefined ? ownSettings : {}),
    },
    checkout,
    checkout === undefined ? ownNodeArgs : [],
    checkout === undefined ? ownOutput : undefined,
  )

/**
 * One gRPC client per gateway for the whole run, as a real client keeps its channel: a connection per answer put an
 * HTTP/2 handshake into every answer's CPU.
 */
const clientScope = Effect.runSync(Scope.make())
const clients = new Map<Gateway, ReasonerClient>()
const clientOf = async (gateway: Gateway): Promise<ReasonerClient> => {
  let client = clients.get(gateway)
  if (client === undefined) {
    client = await Effect.runPromise(
      makeReasonerClient({ address: gateway.address, defaultDeadline: "300 seconds" }).pipe(Scope.provide(clientScope)),
    )
    clients.set(gateway, client)
  }
  return client
}

/** One answer from `gateway` through `door`. */
const ask = (gateway: Gateway, door: string, config: Config, image: BenchImage, seed: number) =>
  Effect.gen(function* () {
    const picture = yield* Effect.promise(() => image.pictureFor(seed))
    if (door === "grpc") {
      const client = yield* Effect.promise(() => clientOf(gateway))
      yield* client.Reason({
        question: QUESTION,
        image: { data: picture },
        search: {
          strategy: config.strategy === "GREEDY" ? "STRATEGY_GREEDY" : "STRATEGY_STAGE_BEAM",
          ...(config.strategy === "STAGE_BEAM" && { candidatesPerStage: config.n }),
          seed: String(seed),
        },
      })
      return
    }
    const response = yield* Effect.promise(() =>
      fetch(`${gateway.httpUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "Xkev/Llama-3.2V-11B-cot",
          messages: [
            {
              role: "user",
              content: [
                {
                  type: "image_url",
                  image_url: { url: `data:${image.mime};base64,${picture.toString("base64")}` },
                },
                { type: "text", text: QUESTION },
              ],
            },
          ],
          stagebeam: {
            strategy: config.strategy.toLowerCase(),
            ...(config.strategy === "STAGE_BEAM" && { candidates: config.n }),
            seed,
          },
        }),
      }).then(async (r) => ({ status: r.status, text: await r.text() })),
    )
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.text.slice(0, 300)}`)
  })

/** One block of one gateway: its CPU and its upstream calls over BLOCK_ANSWERS answers. */
interface Block {
  readonly cpuMs: number
  readonly upstream: number
  /** Major garbage collections that ended in the block (undefined: the gateway does not count them). */
  readonly majors?: number
}

/** What a gateway spent on one setting, over all its blocks. */
interface Figures {
  readonly blocks: ReadonlyArray<Block>
  readonly cpuMsPerAnswer: number
  readonly upstreamPerAnswer: number
  readonly cpuMsPerCall: number
}

const figuresOf = (blocks: ReadonlyArray<Block>): Figures => {
  const cpuMs = blocks.reduce((sum, block) => sum + block.cpuMs, 0)
  const upstream = blocks.reduce((sum, block) => sum + block.upstream, 0)
  const answers = blocks.length * BLOCK_ANSWERS
  return {
    blocks,
    cpuMsPerAnswer: cpuMs / answers,
    upstreamPerAnswer: upstream / answers,
    cpuMsPerCall: cpuMs / Math.max(1, upstream),
  }
}

const perCallOf = (block: Block) => block.cpuMs / Math.max(1, block.upstream)

/**
 * Which blocks of this checkout's gateway held a major garbage collection (marked * in the per-round table), and
 * what a call cost in those blocks and in the others: a mark-compact of the whole heap is the costliest single event
 * of a gateway's steady state, and the usual cause of a block far above its setting's others. Nothing is left out of
 * the figures above: this says why they spread.
 */
const majorCollections = (names: ReadonlyArray<string>, all: ReadonlyArray<ReadonlyArray<Figures>>): string => {
  const lines = names.flatMap((name, s) => {
    const blocks = all[s]![0]!.blocks
    if (blocks.some((block) => block.majors === undefined)) return []
    const held = blocks.filter((block) => (block.majors ?? 0) > 0)
    const clear = blocks.filter((block) => (block.majors ?? 0) === 0)
    const costs =
      held.length === 0 || clear.length === 0
        ? ""
        : `: CPU ms/call ${spread(held.map(perCallOf), 2)} in those, ${spread(clear.map(perCallOf), 2)} in the others`
    return [`  ${name}: ${held.length} of ${blocks.length} blocks held one${costs}`]
  })
  return lines.length === 0
    ? "Major garbage collections: not counted by this gateway (no nodejs_gc_runs_total)."
    : `Blocks of this checkout's gateway that held a major garbage collection (nodejs_gc_runs_total{kind="major"}, read around each block; * in the per-round table):\n${lines.join("\n")}`
}
const spread = (values: ReadonlyArray<number>, digits: number) =>
  `${fixed(Math.min(...values), digits)}–${fixed(Math.max(...values), digits)}`

/** One measured setting: a door, an image and a search. */
interface Setting {
  readonly door: string
  readonly image: BenchImage
  readonly config: Config
}

/**
 * BLOCKS rounds; in each, one block of BLOCK_ANSWERS answers per setting and gateway. The settings take turns block
 * by block (doors, images and searches interleaved, the order reversed every other round), and so do the gateways
 * (alternating which goes first): whatever still warms up or drifts (V8's tiering, heap sizing, the machine's other
 * load) falls on every setting and both gateways alike, where measuring one setting after another put it on whichever
 * came first (gRPC first cost 10–25% more per call than HTTP, and with the doors swapped HTTP did). Each block's CPU is
 * read around its answers, its upstream calls scraped before and after (outside the CPU window). `onRound` sees each
 * round's blocks as they end, for the per-round figures that show whether the cost still falls.
 */
let seed = 1
const measureAll = async (
  gateways: ReadonlyArray<Gateway>,
  settings: ReadonlyArray<Setting>,
  onRound: (round: number, blocks: ReadonlyArray<ReadonlyArray<Block>>) => void,
): Promise<ReadonlyArray<ReadonlyArray<Figures>>> => {
  // One answer per setting and gateway first (the first answer of a setting sets up its door's connection).
  for (const { door, config, image } of settings)
    for (const gateway of gateways) await Effect.runPromise(ask(gateway, door, config, image, 1000))
  const blocks: Array<Array<Array<Block>>> = settings.map(() => gateways.map(() => []))
  for (let round = 0; round < BLOCKS; round++) {
    const settingOrder = settings.map((_, s) => s)
    if (round % 2 === 1) settingOrder.reverse()
    for (const s of settingOrder) {
      const { door, config, image } = settings[s]!
      const order = gateways.map((_, i) => i)
      if ((round + s) % 2 === 1) order.reverse()
      const firstSeed = seed
      for (const i of order) {
        const gateway = gateways[i]!
        const pid = gateway.child.pid!
        // The block's pictures are made first: the gateway's background CPU while the bench encodes is no answer's.
        await Promise.all(Array.from({ length: BLOCK_ANSWERS }, (_, answer) => image.pictureFor(firstSeed + answer)))
        const scrapedBefore = await scrape(gateway.metricsUrl)
        const before = cpuSeconds(pid)
        // The same seeds for both gateways: the same searches.
        for (let answer = 0; answer < BLOCK_ANSWERS; answer++)
          await Effect.runPromise(ask(gateway, door, config, image, firstSeed + answer))
        const cpuMs = (cpuSeconds(pid) - before) * 1000
        const scrapedAfter = await scrape(gateway.metricsUrl)
        blocks[s]![i]!.push({
          cpuMs,
          upstream: scrapedAfter.upstream - scrapedBefore.upstream,
          ...(scrapedAfter.majors !== undefined &&
            scrapedBefore.majors !== undefined && { majors: scrapedAfter.majors - scrapedBefore.majors }),
        })
      }
      seed += BLOCK_ANSWERS
    }
    onRound(
      round,
      blocks.map((perGateway) => perGateway.map((gatewayBlocks) => gatewayBlocks[round]!)),
    )
  }
  return blocks.map((perGateway) => perGateway.map(figuresOf))
}

const baselineDir = BASELINE === "none" ? undefined : baselineCheckout(BASELINE, "gateway-cpu-baseline")
const settings = Object.entries(process.env)
  .filter(([name]) => name.startsWith("GATEWAY_CPU_"))
  .map(([name, value]) => `${name}=${value} `)
  .join("")
report.line(`Command: ${settings}node --conditions=@stagebeam/source bench/gateway-cpu.ts`)
const names = baselineDir === undefined ? ["new"] : ["new", "base"]
report.line(
  baselineDir === undefined
    ? "Gateway CPU per answer and per upstream call: this checkout, no baseline."
    : `Gateway CPU per answer and per upstream call: this checkout ("new") vs the baseline ${BASELINE} ("base"), same run.`,
)
report.line(
  `${BLOCKS} blocks of ${BLOCK_ANSWERS} answers per gateway and setting (${BLOCKS * BLOCK_ANSWERS} answers) after a warm-up: ${WARMUP_S} s of answers over every setting, then one per setting, one answer at a time (gRPC: one channel per gateway for the run; HTTP: keep-alive), in rounds of one block per setting and gateway, the settings (doors, images, searches) and the gateways taking turns block by block (alternating which goes first) on the same seeds; 2 vllm-sim processes (--speed ${SPEED}); ${
    Object.keys(ownSettings).length === 0
      ? "default settings"
      : `default settings but, for this checkout's gateway only, ${Object.entries(ownSettings)
          .map(([key, value]) => `${key}=${value}`)
          .join(", ")}`
  }.`,
)
report.line(
  "CPU: the gateway process's run time over all its threads (/proc/<pid>/task/*/schedstat, ns) around each block; upstream calls from the gateway's metric, scraped outside the CPU window. Spread: lowest–highest of the blocks' CPU ms per upstream call (and of the blocks' new/base ratios).",
)
report.line(machineLine())
report.line()

const sims = await Promise.all([0, 1].map(async () => startSimulatorProcess(await freePort(), SPEED)))

// Part 0: the transport alone.
if (PARTS.includes("transport")) {
  const server = sims[0]!.url
  const models = (await fetch(`${server}/v1/models`).then((r) => r.json())) as { data: Array<{ id: string }> }
  const model = models.data[0]!.id
  const TRANSPORT_CALLS = Number(process.env.GATEWAY_CPU_TRANSPORT_CALLS ?? 300)
  const bodyFor = (image: (typeof images)[number]) => ({
    model,
    n: 4,
    max_tokens: 64,
    messages: [
      {
        role: "user" as const,
        content: [
          {
            type: "image_url" as const,
            image_url: { url: `data:${image.mime};base64,${image.bytes.toString("base64")}` },
          },
          { type: "text" as const, text: QUESTION },
        ],
      },
    ],
  })
  const viaFetch = new OpenAI({ baseURL: `${server}/v1`, apiKey: "x", maxRetries: 0 })
  const lean = makeLeanTransport()
  const viaLean = new OpenAI({
    baseURL: `${server}/v1`,
    apiKey: "x",
    maxRetries: 0,
    logLevel: "off",
    fetch: lean.fetch,
  })
  const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 })
  const paths: ReadonlyArray<readonly [string, (body: ReturnType<typeof bodyFor>) => Promise<unknown>]> = [
    [
      "SDK over fetch (baseline)",
      (body) => viaFetch.chat.completions.create(body as never, { headers: { "X-Request-Id": "bench" } }),
    ],
    [
      "SDK over lean transport (new)",
      (body) => viaLean.chat.completions.create(body as never, { headers: { "X-Request-Id": "bench" } }),
    ],
    [
      "undici.request direct (floor)",
      async (body) => {
        const answer = await request(`${server}/v1/chat/completions`, {
          dispatcher: agent,
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "bench" },
          body: JSON.stringify(body),
        })
        const checked = checkAnswer(await answer.body.json(), body)
        if ("problem" in checked) throw new Error(checked.problem)
        return checked
      },
    ],
  ]
  /**
   * What the gateway puts on the wire for the same call: the image after its pass (a photo scaled to the processor's
   * size, quality 92), the body's bytes made once, as its splice of a cached data URL does; only the write and the
   * answer are left per call. A lone call's cost here is the least a gateway call carrying this image can cost on
   * this machine, before any search work. Measured after the other paths, from a full collection: interleaved with
   * them, it was charged their garbage (the 177 kB photo's 2.76 ms in one run, against 0.98 alone).
   */
  const gatewayBodyFor = async (image: (typeof images)[number], body: ReturnType<typeof bodyFor>) => {
    const header = await Effect.runPromise(readImageHeader(image.bytes, 40_000_000))
    const scaled = await Effect.runPromise(
      decodeAndScale(image.bytes, header, { maxPixels: 40_000_000, prescale: "mllama" }),
    )
    const url = flatDataUrl(scaled)
    const content = body.messages[0]!.content
    const sent = Buffer.from(
      JSON.stringify({
        ...body,
        messages: [{ role: "user", content: [{ ...content[0], image_url: { url } }, content[1]] }],
      }),
    )
    return async () => {
      const answer = await request(`${server}/v1/chat/completions`, {
        dispatcher: agent,
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "bench" },
        body: sent,
      })
      const checked = checkAnswer(await answer.body.json(), body)
      if ("problem" in checked) throw new Error(checked.problem)
      return checked
    }
  }
  // A full collection on demand, without --expose-gc on the command line (the flag reaches a fresh context's global).
  setFlagsFromString("--expose-gc")
  const collect = runInNewContext("gc") as () => void
  const transportRows: Array<Array<string>> = []
  for (const image of images) {
    const body = bodyFor(image)
    const cpu = paths.map(() => 0)
    for (const [, call] of paths) for (let i = 0; i < 20; i++) await call(body) // warm-up
    // Blocks of 10 calls per path, in turns.
    for (let block = 0; block < TRANSPORT_CALLS / 10; block++)
      for (let p = 0; p < paths.length; p++) {
        const before = process.cpuUsage()
        for (let i = 0; i < 10; i++) await paths[p]![1](body)
        const used = process.cpuUsage(before)
        cpu[p]! += used.user + used.system
      }
    const gatewayCall = await gatewayBodyFor(image, body)
    for (let i = 0; i < 20; i++) await gatewayCall()
    collect()
    const before = process.cpuUsage()
    for (let i = 0; i < TRANSPORT_CALLS; i++) await gatewayCall()
    const used = process.cpuUsage(before)
    const perCall = [...cpu, used.user + used.system].map((us) => us / 1000 / TRANSPORT_CALLS)
    const names = [...paths.map(([name]) => name), "undici.request, the gateway's body, alone"]
    for (let p = 0; p < names.length; p++)
      transportRows.push([
        image.name,
        names[p]!,
        fixed(perCall[p]!, 3),
        fixed(perCall[p]! - perCall[2]!, 3),
        fixed(perCall[p]! / perCall[0]!, 2),
      ])
  }
  report.line(
    `0. The transport alone: one chat call (N=4, max_tokens 64, the image inline), ${TRANSPORT_CALLS} calls per path in blocks of 10 taking turns, CPU of this process per call; last, from a full collection, ${TRANSPORT_CALLS} calls sending the body the gateway sends (the image after its pass, the body's bytes made once): the least one lone call carrying that image costs here.`,
  )
  report.table(["image", "path", "CPU ms/call", "over floor", "vs SDK+fetch"], transportRows)
  report.line()
  await lean.close()
  await agent.close()
}

const measured: Array<{ door: string; image: string; config: Config; figures: ReadonlyArray<Figures> }> = []
if (PARTS.includes("answers")) {
  const gateways = [await start(sims), ...(baselineDir === undefined ? [] : [await start(sims, baselineDir)])]
  const ticksBefore = gateways.map((g) => cpuSecondsByTicks(g.child.pid!))
  const schedBefore = gateways.map((g) => cpuSeconds(g.child.pid!))
  const rows: Array<Array<string>> = []
  // Rounds over every setting until WARMUP_S have passed, before any is measured: in a gateway's first minute V8 is
  // still optimising the search and Effect paths (the main thread's Effect share halved between seconds 3–5 and
  // 8–10), and with a one-answer warm-up whichever setting came first cost ~1.5× — gRPC looked 0.7 ms per call dearer
  // than HTTP only because it went first (with the doors swapped, HTTP did).
  const warmUntil = Date.now() + WARMUP_S * 1000
  let warmSeed = 2000
  do {
    for (const door of DOORS)
      for (const image of images)
        for (const config of configs)
          for (const gateway of gateways) await Effect.runPromise(ask(gateway, door, config, image, warmSeed++))
  } while (Date.now() < warmUntil)
  const settingsMeasured: Array<Setting> = []
  for (const door of DOORS)
    for (const image of images) for (const config of configs) settingsMeasured.push({ door, image, config })
  const nameOf = ({ door, image, config }: Setting) => `${door} ${image.key} ${config.label}`
  // Each round's CPU per upstream call, in order: if it still falls from round to round, the warm-up was too short.
  const roundRows: Array<Array<string>> = settingsMeasured.map((setting) => [nameOf(setting)])
  const all = await measureAll(gateways, settingsMeasured, (round, blocks) => {
    blocks.forEach((perGateway, s) => {
      roundRows[s]!.push(
        perGateway.map((block) => `${fixed(perCallOf(block), 2)}${(block.majors ?? 0) > 0 ? "*" : ""}`).join(" / "),
      )
      console.error(`round ${round + 1}  ${roundRows[s]![0]}  ${roundRows[s]![round + 1]}`)
    })
  })
  settingsMeasured.forEach(({ door, image, config }, s) => {
    const figures = all[s]!
    measured.push({ door, image: image.name, config, figures })
    const [now, before] = figures
    const row = [
      door,
      image.name,
      config.label,
      fixed(now!.upstreamPerAnswer, 1),
      fixed(now!.cpuMsPerAnswer, 1),
      fixed(now!.cpuMsPerCall, 2),
      spread(now!.blocks.map(perCallOf), 2),
      ...(before === undefined
        ? []
        : [
            fixed(before.upstreamPerAnswer, 1),
            fixed(before.cpuMsPerAnswer, 1),
            fixed(before.cpuMsPerCall, 2),
            spread(before.blocks.map(perCallOf), 2),
            fixed(now!.cpuMsPerCall / before.cpuMsPerCall, 2),
            spread(
              now!.blocks.map((block, b) => perCallOf(block) / perCallOf(before.blocks[b]!)),
              2,
            ),
          ]),
    ]
    rows.push(row)
  })
  report.table(
    [
      "door",
      "image",
      "search",
      "new calls/ans",
      "CPU ms/ans",
      "CPU ms/call",
      "spread",
      ...(baselineDir === undefined
        ? []
        : ["base calls/ans", "CPU ms/ans", "CPU ms/call", "spread", "new/base", "spread"]),
    ],
    rows,
  )
  report.line()
  report.line(
    `Per round, in the order measured: CPU ms per upstream call of each setting's block (${names.join(" / ")}); a cost that still falls from round to round means the warm-up did not reach the steady state.`,
  )
  report.table(["setting", ...Array.from({ length: BLOCKS }, (_, round) => `round ${round + 1}`)], roundRows)
  report.line(majorCollections(settingsMeasured.map(nameOf), all))
  // The schedstat sums against the kernel's ticks over the whole part (threads that ended show in the ticks only).
  const check = gateways.map((g, i) => {
    const ticks = cpuSecondsByTicks(g.child.pid!) - ticksBefore[i]!
    const sched = cpuSeconds(g.child.pid!) - schedBefore[i]!
    return `${names[i]} ${fixed(sched, 2)} s by schedstat, ${fixed(ticks, 2)} s by /proc/<pid>/stat ticks`
  })
  report.line(`Check over the whole part (warm-ups and scrapes included): ${check.join("; ")}.`)
  for (const gateway of gateways) gateway.child.kill("SIGTERM")
  await Promise.all(gateways.map((gateway) => gateway.exited))
}

// Idle: 8 servers, no calls.
let idleMsPerS: ReadonlyArray<number> | undefined
if (PARTS.includes("idle")) {
  const eight = [
    ...sims,
    ...(await Promise.all([0, 1, 2, 3, 4, 5].map(async () => startSimulatorProcess(await freePort(), SPEED)))),
  ]
  const idle = [await start(eight), ...(baselineDir === undefined ? [] : [await start(eight, baselineDir)])]
  for (const gateway of idle) await Effect.runPromise(ask(gateway, "grpc", N4, png, 1))
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  // Four windows, both gateways idle at once: their spread shows how much the machine's other load moved them.
  const windows: Array<ReadonlyArray<number>> = []
  for (let w = 0; w < 4; w++) {
    const before = idle.map((g) => cpuSeconds(g.child.pid!))
    await new Promise((resolve) => setTimeout(resolve, (IDLE_S * 1000) / 4))
    windows.push(idle.map((g, i) => ((cpuSeconds(g.child.pid!) - before[i]!) * 1000) / (IDLE_S / 4)))
  }
  idleMsPerS = idle.map((_, i) => windows.reduce((sum, window) => sum + window[i]!, 0) / windows.length)
  const figure = (i: number) =>
    `${names[i]} ${fixed(idleMsPerS![i]!, 1)} ms CPU/s (windows ${spread(
      windows.map((window) => window[i]!),
      1,
    )})`
  report.line()
  report.line(
    `Idle over 8 servers (after one STAGE_BEAM N=4 answer and 3 s, then ${IDLE_S} s without calls in 4 windows): ` +
      `${idle.map((_, i) => figure(i)).join(", ")}${idle.length === 2 ? ` (new/base ${fixed(idleMsPerS[0]! / idleMsPerS[1]!, 2)})` : ""}.`,
  )
  for (const gateway of idle) gateway.child.kill("SIGTERM")
  await Promise.all(idle.map((gateway) => gateway.exited))
  for (const sim of eight.slice(2)) sim.child.kill("SIGTERM")
}

/**
 * The projected knee: how many real-time H100 servers one dedicated gateway core keeps busy. One server answers
 * SERVER_ANSWERS_PER_S STAGE_BEAM N=4 answers a second at full batch (bench/results/scaling.txt, 1 server at speed 1),
 * so n servers ask the gateway for n × that × (CPU-seconds per answer) of CPU each second, and its load polling for n
 * × (what polling one busy server costs a second); one core gives 1 CPU-second a second:
 *   knee = 1 / (SERVER_ANSWERS_PER_S × CPU-s per answer + polling CPU-s per server per second).
 * Polling a busy server costs twice what an idle one does (the 500 ms floor against the 1 s idle interval); the idle
 * figure per server comes from this run's idle part (8 servers), without it polling is left out. A gateway that reads
 * load reports by need (this checkout since #24) reads none while idle, so for it the idle figure stands in for the
 * reads' cost rather than measuring it (bench/README bounds it from an idle run against 027a843); scaling's knee, measured under load
 * at real-time speed, has the reads in it.
 */
if (measured.some((m) => m.config === N4)) {
  report.line()
  report.line(
    `Projected knee of one dedicated gateway core, from this run's CPU per answer (STAGE_BEAM N=4): one real-time H100 server answers ${SERVER_ANSWERS_PER_S} answers/s at full batch (bench/results/scaling.txt, 1 server at speed 1; ${fixed(1 / SERVER_ANSWERS_PER_S, 2)} server-seconds per answer), so`,
  )
  report.line(
    "  knee (servers per core) = 1 core-s/s ÷ (answers/s per server × gateway CPU-s per answer + polling CPU-s/s per busy server),",
  )
  report.line(
    `  polling a busy server = 2 × the idle part's CPU per second ÷ 8 servers (the 500 ms floor against the 1 s idle interval)${idleMsPerS === undefined ? "; no idle part in this run: polling left out" : "; a gateway that reads load reports only while busy (this checkout) reads none in the idle part, so there the figure stands in for the reads' cost, an estimate (bench/README), and bench/scaling.ts's knee is the one measured with them"}. The CPU per answer here is one answer at a time (speed 100); under load calls share event-loop turns, so this is a projection, not a measurement of the knee.`,
  )
  const rows = measured
    .filter((m) => m.config === N4)
    .map((m) => [
      m.door,
      m.image,
      ...m.figures.flatMap((f, i) => {
        const polling = idleMsPerS === undefined ? 0 : (2 * idleMsPerS[i]!) / 8 / 1000
        const knee = projectedKnee({
          answersPerServer: SERVER_ANSWERS_PER_S,
          cpuPerAnswerS: f.cpuMsPerAnswer / 1000,
          pollingPerServerS: polling,
        })
        return [fixed(f.cpuMsPerAnswer, 1), fixed(polling * 1000, 2), fixed(knee, 0)]
      }),
    ])
  report.table(
    ["door", "image", ...names.flatMap((name) => [`${name} CPU ms/ans`, "polling ms/s/server", "servers per core"])],
    rows,
  )
}

for (const sim of sims) sim.child.kill("SIGTERM")
console.log(`saved ${report.save()}`)
process.exit(0)
