import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { Effect } from "effect"
import { bin, stagebeam } from "./binary.ts"

const TSV = join(import.meta.dirname, "../data/demo-mcq.tsv")
const ROWS = 24

const linesOf = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
    : []

/** The (strategy, index) of every complete line. */
const keysOf = (file: string) =>
  linesOf(file).flatMap((line) => {
    try {
      const row = JSON.parse(line) as { strategy: string; index: string }
      return [`${row.strategy}/${row.index}`]
    } catch {
      return []
    }
  })

describe("stagebeam eval", () => {
  it.live(
    "runs the shipped TSV through two strategies (one with a judge by name): accuracy per strategy, the JSONL and the HTML report",
    () =>
      Effect.gen(function* () {
        const { address } = yield* serveGateway.pipe(Effect.provide(GatewaySettings.layerTest()))
        const out = mkdtempSync(join(tmpdir(), "stagebeam-eval-"))
        const ran = yield* stagebeam([
          "eval",
          TSV,
          "--out",
          out,
          "-a",
          address,
          "--strategies",
          "greedy,stage_beam:4@reward",
          "-c",
          "4",
          "--progress",
          "always",
        ])
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.match(ran.stdout, /^strategy\s+n\s+accuracy\s+95% CI/m)
        assert.match(ran.stdout, /^greedy\s+24\s+\d+\.\d%\s+\[\d+\.\d, \d+\.\d\]/m)
        assert.match(ran.stdout, /^stage_beam-4@reward\s+24\s+\d+\.\d%/m)
        assert.match(ran.stdout, /^fine-grained perception\s+\d/m)
        assert.match(ran.stderr, /eval \|.*\| \d+\/48 · \d+% · ETA /, "a progress bar with its ETA on stderr")
        const rows = linesOf(join(out, "results.jsonl")).map((line) => JSON.parse(line))
        assert.strictEqual(rows.length, 2 * ROWS)
        assert.isTrue(rows.every((row) => row.error === null && /^[A-D]$/.test(row.answer)))
        assert.isTrue(rows.some((row) => row.correct))
        assert.isAbove(rows.find((row) => row.strategy === "stage_beam-4@reward").slot_ms, 0)
        const report = readFileSync(join(out, "report.html"), "utf8")
        assert.include(report, "Chart.js v4", "Chart.js is inlined")
        assert.notMatch(report, /<script[^>]+src=/, "nothing is fetched when the report is viewed")
        const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))
        assert.deepStrictEqual(
          summary.map((s: { strategy: string }) => s.strategy),
          ["greedy", "stage_beam-4@reward"],
        )
      }),
  )

  it.live("a killed run resumes without redoing the rows it finished", () =>
    Effect.gen(function* () {
      // A slow fleet, one search at a time: the kill lands mid-run.
      const { address } = yield* serveGateway.pipe(
        Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1, speed: 40 } })),
      )
      const out = mkdtempSync(join(tmpdir(), "stagebeam-eval-resume-"))
      const results = join(out, "results.jsonl")
      const args = ["eval", TSV, "--out", out, "-a", address, "--strategies", "greedy,stage_beam:2", "-c", "1"]
      const child: ChildProcess = spawn(process.execPath, [bin, ...args], { stdio: "ignore" })
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code, signal) => resolve(signal === null ? code : -1)),
      )
      for (let i = 0; i < 600 && keysOf(results).length < 5; i++) yield* Effect.sleep("50 millis")
      child.kill("SIGKILL")
      assert.strictEqual(yield* Effect.promise(() => exited), -1, "killed before it finished")
      const before = new Set(keysOf(results))
      assert.isAtLeast(before.size, 5)
      assert.isBelow(before.size, 2 * ROWS)

      const resumed = yield* stagebeam(args)
      assert.strictEqual(resumed.code, 0, resumed.stderr)
      assert.include(resumed.stderr, `resuming: ${before.size} of ${2 * ROWS} already in`)
      const after = keysOf(results)
      assert.strictEqual(new Set(after).size, 2 * ROWS, "every row once")
      assert.strictEqual(after.length, 2 * ROWS, "no finished row run again")
    }),
  )

  it.live("refuses what it cannot read, naming it: a missing TSV, a bad strategy", () =>
    Effect.gen(function* () {
      const out = mkdtempSync(join(tmpdir(), "stagebeam-eval-bad-"))
      const missing = yield* stagebeam(["eval", "/nonexistent/MMStar.tsv", "--out", out])
      assert.strictEqual(missing.code, 3)
      assert.include(missing.stderr, "cannot read the TSV /nonexistent/MMStar.tsv: no such file")
      const strategy = yield* stagebeam(["eval", TSV, "--out", out, "--strategies", "beam:4"])
      assert.strictEqual(strategy.code, 2)
      assert.include(strategy.stderr, '"beam:4" is not STRATEGY')
      const judge = yield* stagebeam(["eval", TSV, "--out", out, "--strategies", "stage_beam:4@"])
      assert.strictEqual(judge.code, 2)
      assert.include(judge.stderr, '"stage_beam:4@" is not STRATEGY[:N[:knockout|sequential]][@JUDGE]')
    }),
  )
})
