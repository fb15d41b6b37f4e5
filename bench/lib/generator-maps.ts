// Which generator functions a process made and called afresh, by source location, from a V8 log (issue #24). Calling
// a generator function made anew (an `Effect.gen(function* () {…})` inside a function that runs per call) gives that
// function an initial map of its own, in V8's old generation, whose constructor is the function: the function's scope,
// and all it reaches, then outlives every young collection until a mark-compact (bench/README.md, "Why a photo's
// Buffers wait for a mark-compact"). A generator function made once and called many times makes one map.
//
// The log: a gateway run with `--log-maps --log-maps-details --logfile=<file> --no-logfile-per-isolate`, e.g. under
// bench/gateway-cpu.ts with GATEWAY_CPU_NODE_ARGS. Run: node bench/lib/generator-maps.ts <log> [answers]
// Prints each location's count of new generator maps, divided by `answers` where given, most first.
//
// The log lines read (V8 13.6, Node 24.22): `code-creation,<type>,<kind>,<time>,<code>,<size>,<name>,<sfi>,<state>`
// (a function's name is "<name> <url>:<line>:<column>"), `sfi-move,<from>,<to>`, `map-details,<time>,<map>,<text>`
// (the map printed, with its type and constructor's SharedFunctionInfo), and `map,InitialMap,<time>,<from>,<map>,…`.

import { createReadStream } from "node:fs"
import { createInterface } from "node:readline"

const [path, answersArg] = process.argv.slice(2)
if (path === undefined) {
  console.error("usage: node bench/lib/generator-maps.ts <v8 log> [answers]")
  process.exit(2)
}
const answers = answersArg === undefined ? undefined : Number(answersArg)

const GENERATOR_TYPES = new Set(["JS_GENERATOR_OBJECT_TYPE", "JS_ASYNC_GENERATOR_OBJECT_TYPE"])
const sourceOf = new Map<bigint, string>()
const detailsOf = new Map<string, { readonly type: string; readonly sfi: bigint | undefined }>()
const counts = new Map<string, number>()
let generatorMaps = 0

/**
 * A SharedFunctionInfo's address, the tag bit cleared: map-details prints it tagged (odd), code-creation untagged.
 * BigInt, not `&`: a 64-bit address would lose its upper half to JavaScript's 32-bit bitwise operators.
 */
const untagged = (address: string) => BigInt(address) & ~1n

for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
  if (line.startsWith("code-creation,")) {
    const fields = line.split(",")
    if (fields.length >= 8 && fields[7]!.startsWith("0x")) sourceOf.set(untagged(fields[7]!), fields[6]!.trim())
  } else if (line.startsWith("sfi-move,")) {
    const [, from, to] = line.split(",")
    const source = sourceOf.get(untagged(from!))
    if (source !== undefined) sourceOf.set(untagged(to!), source)
  } else if (line.startsWith("map-details,")) {
    const [, , map] = line.split(",", 3)
    const type = /- type: (\w+)/.exec(line)?.[1] ?? "?"
    const sfi = /- constructor: 0x[0-9a-f]+ <JSFunction [^(]*\(sfi = (0x[0-9a-f]+)\)/.exec(line)?.[1]
    detailsOf.set(map!, { type, sfi: sfi === undefined ? undefined : untagged(sfi) })
  } else if (line.startsWith("map,InitialMap,")) {
    const map = line.split(",")[4]!
    const details = detailsOf.get(map)
    if (details === undefined || !GENERATOR_TYPES.has(details.type)) continue
    generatorMaps++
    const source = (details.sfi === undefined ? undefined : sourceOf.get(details.sfi)) ?? "(source not in the log)"
    counts.set(source, (counts.get(source) ?? 0) + 1)
  }
}

const per = answers === undefined ? "" : ` (per answer: ÷ ${answers})`
console.log(`generator functions given a new map: ${generatorMaps}${per}`)
for (const [source, count] of [...counts].sort((a, b) => b[1] - a[1])) {
  const shown = answers === undefined ? String(count) : (count / answers).toFixed(2)
  console.log(`${shown.padStart(8)}  ${source.replace(/^file:\/\/\S*?\/(libs|services|node_modules|bench)\//, "$1/")}`)
}
