// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by function, by file and by
// package, and inclusive time by function (a function counted once per sample however deep it recurses).
//
// Run: node bench/lib/cpuprofile.ts <file.cpuprofile> [top rows, default 40] [divide by, e.g. upstream calls]
//   [skip the first seconds (start-up)] — it also prints the busy ms of each second, to choose what to skip.
import { readFileSync } from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Where a frame's code lives: a workspace package, an npm package, node's own, or V8's (GC, idle, program). */
const packageOf = (url: string): string => {
  if (url === "") return "(native/V8)"
  if (url.startsWith("node:")) return "node:internal"
  const modules = url.lastIndexOf("/node_modules/")
  if (modules !== -1) {
    const rest = url.slice(modules + "/node_modules/".length).split("/")
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const workspace = /\/(libs|services|bench)\/([^/]+)\//.exec(url)
  return workspace === null ? url : `${workspace[1]}/${workspace[2]}`
}

const fileOf = (url: string) => url.replace(/^file:\/\//, "").replace(/^.*\/(node_modules|libs|services)\//, "$1/")

const keyOf = (frame: CallFrame) =>
  `${frame.functionName || "(anonymous)"}  ${fileOf(frame.url)}:${frame.lineNumber + 1}`

export const summarize = (profile: Profile, top: number, per?: number, skipS = 0) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const self = new Map<string, number>()
  const files = new Map<string, number>()
  const packages = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  let idle = 0
  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us)
  const seconds: Array<number> = []
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0
    at += profile.timeDeltas[i] ?? 0
    const second = Math.floor((at - profile.startTime) / 1e6)
    const node = byId.get(profile.samples[i]!)!
    if (node.callFrame.functionName === "(idle)") {
      idle += us
      continue
    }
    seconds[second] = (seconds[second] ?? 0) + us
    if (second < skipS) continue
    total += us
    add(self, keyOf(node.callFrame), us)
    add(files, node.callFrame.url === "" ? node.callFrame.functionName : fileOf(node.callFrame.url), us)
    add(packages, packageOf(node.callFrame.url), us)
    const seen = new Set<string>()
    for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at)!.callFrame)
      if (seen.has(key)) continue
      seen.add(key)
      add(inclusive, key, us)
    }
  }
  const lines: Array<string> = []
  const unit = per === undefined ? "ms" : `ms per 1/${per}`
  const ms = (us: number) => (per === undefined ? (us / 1000).toFixed(1) : (us / 1000 / per).toFixed(3))
  lines.push(
    `busy ${(total / 1000).toFixed(0)} ms (after the first ${skipS} s), idle ${(idle / 1000).toFixed(0)} ms, over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s; figures in ${unit}`,
  )
  lines.push(`busy ms by second: ${Array.from(seconds, (us) => ((us ?? 0) / 1000).toFixed(0)).join(" ")}`)
  const table = (title: string, map: Map<string, number>, rows: number) => {
    lines.push("", title)
    for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows))
      lines.push(`${ms(us).padStart(9)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`)
  }
  table("self time by package", packages, 25)
  table("self time by file", files, top)
  table("self time by function", self, top)
  table("inclusive time by function", inclusive, top)
  return lines.join("\n")
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top, per, skip] = process.argv.slice(2)
  if (file === undefined) {
    console.error("usage: node bench/lib/cpuprofile.ts <file.cpuprofile> [top rows] [divide by or -] [skip seconds]")
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
  console.log(
    summarize(
      profile,
      Number(top ?? 40),
      per === undefined || per === "-" ? undefined : Number(per),
      skip === undefined ? 0 : Number(skip),
    ),
  )
}
