// Simulated vLLM servers and a gateway as real processes on 127.0.0.1, for faults a process can suffer (SIGKILL,
// SIGSTOP, SIGTERM) and for its memory and descriptors as the kernel counts them.
import { type ChildProcess, spawn } from "node:child_process"
import { appendFileSync, readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface Proc {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly output: () => string
}

const start = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  ready: string,
  cwd: string = repo,
  outputFile?: string,
): Promise<Proc> =>
  new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("STAGEBEAM_")))
    const child = spawn(process.execPath, ["--conditions=@stagebeam/source", ...args], {
      cwd,
      env: { ...clean, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
    const onData = (chunk: Buffer) => {
      if (outputFile !== undefined) appendFileSync(outputFile, chunk)
      output += chunk.toString()
      if (output.length > 1_000_000) output = output.slice(-500_000)
      if (output.includes(ready)) resolve({ child, exited, output: () => output })
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("exit", (code) => reject(new Error(`exited (${code}) before ready: ${output.slice(-2000)}`)))
  })

export const startSimulatorProcess = async (port: number, speed: number, extra: ReadonlyArray<string> = []) => ({
  port,
  url: `http://127.0.0.1:${port}`,
  ...(await start(
    ["services/vllm-sim/bin/vllm-sim.js", "--port", String(port), "--speed", String(speed), ...extra],
    {},
    `listening on http://127.0.0.1:${port}`,
  )),
})

/**
 * Simulated servers several to a process (bench/lib/sim-group.ts): `ports.length` servers in `perProcess`-sized
 * groups, server i seeded `seeds[i]`. Each server is its own entry, its `child` the group's process (shared).
 */
export const startSimulatorGroups = async (
  ports: ReadonlyArray<number>,
  speed: number,
  perProcess: number,
  seeds: ReadonlyArray<number> = [],
) => {
  const groups: Array<Promise<ReadonlyArray<Proc & { readonly port: number; readonly url: string }>>> = []
  for (let from = 0; from < ports.length; from += perProcess) {
    const mine = ports.slice(from, from + perProcess)
    const last = mine.at(-1)!
    groups.push(
      start(
        [
          "bench/lib/sim-group.ts",
          "--speed",
          String(speed),
          "--ports",
          mine.join(","),
          ...(seeds.length === 0 ? [] : ["--seeds", seeds.slice(from, from + perProcess).join(",")]),
        ],
        {},
        `listening on http://127.0.0.1:${last} `,
      ).then((proc) => mine.map((port) => ({ ...proc, port, url: `http://127.0.0.1:${port}` }))),
    )
  }
  return (await Promise.all(groups)).flat()
}

/**
 * The Node flags the checkout's gateway image starts it with (deploy/Dockerfile's ENTRYPOINT, between `node` and the
 * entry, --conditions aside): a gateway under a bench runs as its image runs it, this checkout's and a baseline's alike.
 */
export const imageNodeFlags = (checkout: string = repo): ReadonlyArray<string> => {
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(checkout, "deploy", "Dockerfile"), "utf8"))?.[1]
  if (entry === undefined) return []
  const words = JSON.parse(entry) as ReadonlyArray<string>
  return words
    .slice(1, words.indexOf("services/gateway/src/main.ts"))
    .filter((word) => !word.startsWith("--conditions"))
}

/**
 * A gateway process; `checkout` runs another checkout's gateway (a baseline build), this one's by default. It starts
 * with its image's Node flags (imageNodeFlags); `nodeArgs` go on its command line (V8 flags that NODE_OPTIONS refuses,
 * such as --log-maps), and its output is also appended to `outputFile` where given (V8's --trace-gc, say).
 */
export const startGatewayProcess = async (
  env: Record<string, string>,
  checkout: string = repo,
  nodeArgs: ReadonlyArray<string> = [],
  outputFile?: string,
) => {
  const port = await freePort()
  const metricsPort = await freePort()
  const httpPort = await freePort()
  const proc = await start(
    [...imageNodeFlags(checkout), ...nodeArgs, "services/gateway/src/main.ts"],
    {
      STAGEBEAM_GRPC_HOST: "127.0.0.1",
      STAGEBEAM_GRPC_PORT: String(port),
      STAGEBEAM_METRICS_HOST: "127.0.0.1",
      STAGEBEAM_METRICS_PORT: String(metricsPort),
      STAGEBEAM_HTTP_HOST: "127.0.0.1",
      STAGEBEAM_HTTP_PORT: String(httpPort),
      STAGEBEAM_LOG_FORMAT: "json",
      ...env,
    },
    "stagebeam gateway listening",
    checkout,
    outputFile,
  )
  return {
    ...proc,
    address: `127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
  }
}

/** What the kernel says of a process: resident memory now and at its peak (kB → bytes), descriptors open. */
export const sampleProcess = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? "0") * 1024
  return { rss: kb("VmRSS"), peakRss: kb("VmHWM"), fds: readdirSync(`/proc/${pid}/fd`).length }
}

/** One gauge from the gateway's /metrics (e.g. nodejs_heap_used_bytes). */
export const scrapeGauge = async (metricsUrl: string, name: string): Promise<number | undefined> => {
  const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) }).then((response) => response.text())
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text)
  return match === null ? undefined : Number(match[1])
}
