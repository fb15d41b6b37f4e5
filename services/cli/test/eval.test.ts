import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { serveSimulator } from "@stagebeam/vllm-sim"
import { parse } from "csv-parse/sync"
import { Effect } from "effect"
import { datasetName, layoutOfName, readDataset } from "../src/eval/Dataset.ts"
import { makeGrader } from "../src/eval/Grader.ts"
import { scoreDataset } from "../src/eval/Scoring.ts"
import { bin, stagebeam } from "./binary.ts"
import { makeSixBenchmarks } from "./fixtures.ts"

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

/** Keys with an upper-case letter (not the files' snake_case), except the names of the records under `names`. */
const camelKeysOf = (value: unknown, names: ReadonlyArray<string>, path = ""): ReadonlyArray<string> => {
  if (Array.isArray(value)) return value.flatMap((inner, i) => camelKeysOf(inner, names, `${path}[${i}]`))
  if (value === null || typeof value !== "object") return []
  const own = names.includes(path.split(".").at(-1) ?? "") ? [] : Object.keys(value).filter((key) => /[A-Z]/.test(key))
  return [
    ...own.map((key) => `${path}.${key}`),
    ...Object.entries(value).flatMap(([key, inner]) => camelKeysOf(inner, names, `${path}.${key}`)),
  ]
}

/** A TSV as pandas' read_csv(sep="\t") reads it (VLMEvalKit's load for .tsv): a header, quoted fields. */
const readAsPandas = (path: string) =>
  parse(readFileSync(path, "utf8"), { delimiter: "\t", columns: true, relax_quotes: false }) as Array<
    Record<string, string>
  >

describe("stagebeam eval", () => {
  it.live(
    "runs the paper's six benchmarks end to end: VLMEvalKit's files, its scores on those predictions, the paper's table, a simulated banner",
    () =>
      Effect.gen(function* () {
        const { address } = yield* serveGateway.pipe(Effect.provide(GatewaySettings.layerTest()))
        const grader = yield* serveSimulator({ speed: 1000 })
        const { files } = yield* Effect.promise(() => makeSixBenchmarks())
        const out = mkdtempSync(join(tmpdir(), "stagebeam-eval-six-"))
        const ran = yield* stagebeam([
          "eval",
          ...files,
          "--out",
          out,
          "-a",
          address,
          "--strategies",
          "greedy/0,stage_beam:2",
          "--grader",
          grader.url,
          "--grader-model",
          grader.model,
          "-c",
          "8",
        ])
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.match(ran.stdout, /^SIMULATED: /m)
        assert.match(
          ran.stdout,
          /^configuration\s+MMStar\s+MMBench\s+MMVet\s+MathVista\s+AI2D\s+HallusionBench\s+Average$/m,
        )
        assert.match(ran.stdout, /^paper: LLaVA-CoT\s+57\.6\s+75\.0\s+60\.3\s+54\.8\s+85\.7\s+47\.8\s+63\.5$/m)
        assert.match(ran.stdout, /^greedy-t0(\s+\d+\.\d){7}$/m, "every benchmark and the average measured")
        assert.match(ran.stdout, /^stage_beam-2(\s+\d+\.\d){7}$/m)
        assert.match(
          ran.stdout,
          /^greedy-t0 − stage_beam-2\s+\d+\s+[+-]\d+\.\d\s+\[-?\d+\.\d, -?\d+\.\d\]/m,
          "a paired interval",
        )

        const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))
        assert.strictEqual(summary.simulated, true)
        assert.strictEqual(summary.provenance.vlmevalkit.commit, "7de2dcbc22baf9eee803bd690666556b7fda2cec")
        assert.match(summary.provenance.gateway.version, /^\d+\.\d+\.\d+/)
        const generator = summary.provenance.pools.find((p: { name: string }) => p.name === "generator")
        assert.strictEqual(generator.model, "Xkev/Llama-3.2V-11B-cot")
        assert.strictEqual(generator.simulated, true)
        assert.deepStrictEqual(
          generator.servers.map((s: { version: string }) => s.version),
          ["0.10.2", "0.10.2"],
        )
        // summary.json in the files' one convention (snake_case; was failedCalls, files.scoreFile).
        assert.deepStrictEqual(summary.provenance.grader, { url: grader.url, model: grader.model, failed_calls: 0 })
        assert.strictEqual(summary.provenance.configurations[0].temperature, 0)
        assert.strictEqual(summary.provenance.configurations[1].selection.preset, "DEFAULT")
        assert.strictEqual(summary.benchmarks.length, 6)
        const report = readFileSync(join(out, "report.html"), "utf8")
        assert.include(report, 'id="simulated"')
        assert.isBelow(
          report.indexOf('id="paper-table"'),
          report.indexOf("<h2>MMStar"),
          "the paper's table comes first",
        )
        assert.include(report, "paper: LLaVA-CoT + stage-level search (2 per stage)")
        assert.include(report, "Chart.js v4", "Chart.js is inlined")
        assert.notMatch(report, /<script[^>]+src=/, "nothing is fetched when the report is viewed")

        // Each configuration's predictions, read back as VLMEvalKit reads them, and scored again by the rules:
        // the same figures as the summary's.
        const rescoring = yield* makeGrader({ url: grader.url, model: grader.model, keyFile: undefined, timeout: 30 })
        const results = linesOf(join(out, "results.jsonl")).map((line) => JSON.parse(line))
        // The files' one convention (docs/api.md): snake_case keys (VLMEvalKit's metric names as it writes them),
        // seeds and counts as numbers.
        assert.deepStrictEqual(camelKeysOf(summary, ["metrics"]), [])
        assert.deepStrictEqual(camelKeysOf(JSON.parse(readFileSync(join(out, "settings.json"), "utf8")), []), [])
        assert.deepStrictEqual(camelKeysOf(results, []), [])
        for (const row of results) assert.strictEqual(typeof row.seed, "number")
        for (const file of files) {
          const name = datasetName(file)
          const layout = layoutOfName(file)
          const { columns, items } = yield* readDataset(file, layout)
          const benchmark = summary.benchmarks.find((b: { dataset: string }) => b.dataset === name)
          assert.strictEqual(benchmark.layout, layout)
          for (const configuration of benchmark.configurations) {
            const rows = readAsPandas(configuration.files.predictions)
            assert.strictEqual(rows.length, items.length, `${name}: one line per row`)
            assert.deepStrictEqual(Object.keys(rows[0]!), [...columns.filter((c) => c !== "image"), "prediction"])
            for (const row of rows) {
              const mine = results.find(
                (r) => r.dataset === name && r.strategy === configuration.strategy && r.index === row.index,
              )
              assert.strictEqual(row.prediction, mine.prediction)
            }
            assert.isTrue(existsSync(configuration.files.score_file))
            const again = yield* scoreDataset(
              layout,
              name,
              items,
              new Map(rows.map((r) => [r.index!, r.prediction!])),
              rescoring,
            )
            assert.closeTo(configuration.score, again.headline, 1e-9, `${name} ${configuration.strategy}`)
          }
          assert.strictEqual(benchmark.paired.length, 1)
        }
        const hallusion = summary.benchmarks.find((b: { dataset: string }) => b.dataset === "HallusionBench")
        assert.hasAllKeys(hallusion.configurations[0].metrics, ["aAcc", "fAcc", "qAcc"])
        const mmbench = summary.benchmarks.find((b: { dataset: string }) => b.dataset === "MMBench_DEV_EN")
        assert.strictEqual(mmbench.paired[0].n, 2, "MMBench pairs its 2 circular groups, not its 8 rows")
      }),
    240_000,
  )

  it.live(
    "a resume under another seed, preset or fleet is refused, naming the difference; greedy/0 is the same under any seed",
    () =>
      Effect.gen(function* () {
        const { address } = yield* serveGateway.pipe(Effect.provide(GatewaySettings.layerTest()))
        const other = yield* serveGateway.pipe(
          Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1, speed: 500 } })),
        )
        const out = mkdtempSync(join(tmpdir(), "stagebeam-eval-settings-"))
        const args = ["eval", TSV, "--out", out, "--limit", "4", "--strategies", "greedy/0,stage_beam:2"]
        const first = yield* stagebeam([...args, "-a", address])
        assert.strictEqual(first.code, 0, first.stderr)
        const seed = yield* stagebeam([...args, "-a", address, "--seed", "99"])
        assert.strictEqual(seed.code, 2)
        assert.include(seed.stderr, "holds rows made under other settings")
        assert.include(seed.stderr, "seed: 1 in the results, 99 now")
        const preset = yield* stagebeam([...args, "-a", address, "--preset", "reference"])
        assert.strictEqual(preset.code, 2)
        assert.include(preset.stderr, 'preset: "default" in the results, "reference" now')
        const fleet = yield* stagebeam([...args, "-a", other.address])
        assert.strictEqual(fleet.code, 2)
        assert.match(fleet.stderr, /fleet\.pools: .*"servers":\[\{"kind":"vllm","version":"0\.10\.2"\},\{/)
        const same = yield* stagebeam([...args, "-a", address])
        assert.strictEqual(same.code, 0, same.stderr)
        assert.include(same.stderr, "resuming: 8 of 8 already in")

        const elsewhere = mkdtempSync(join(tmpdir(), "stagebeam-eval-greedy-"))
        const reseeded = yield* stagebeam([
          "eval",
          TSV,
          "--out",
          elsewhere,
          "--limit",
          "4",
          "--strategies",
          "greedy/0",
          "-a",
          address,
          "--seed",
          "99",
        ])
        assert.strictEqual(reseeded.code, 0, reseeded.stderr)
        const greedyOf = (dir: string) =>
          linesOf(join(dir, "results.jsonl"))
            .map((line) => JSON.parse(line))
            .filter((row) => row.strategy === "greedy-t0")
            .sort((a, b) => Number(a.index) - Number(b.index))
            .map((row) => row.conclusion)
        assert.deepStrictEqual(
          greedyOf(elsewhere),
          greedyOf(out),
          "temperature 0 decodes greedily: seeds change nothing",
        )
      }),
    240_000,
  )

  it.live(
    "rows the gateway refuses are counted and shown as refused, not as answered",
    () =>
      Effect.gen(function* () {
        // One sequence, no queue: of four searches sent at once, the gateway admits one and refuses the rest.
        const { address } = yield* serveGateway.pipe(
          Effect.provide(
            GatewaySettings.layerTest({
              simulator: { servers: 1, speed: 20 },
              admission: { maxRunningSequences: 1, maxQueued: 0 },
            }),
          ),
        )
        const out = mkdtempSync(join(tmpdir(), "stagebeam-eval-refused-"))
        const ran = yield* stagebeam([
          "eval",
          TSV,
          "--out",
          out,
          "-a",
          address,
          "--strategies",
          "greedy",
          "--limit",
          "4",
          "-c",
          "4",
        ])
        assert.strictEqual(ran.code, 4, ran.stderr)
        assert.match(ran.stderr, /rows failed for now/)
        const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))
        const greedy = summary.benchmarks[0].configurations[0]
        assert.isAbove(greedy.refused, 0)
        assert.strictEqual(greedy.answered + greedy.refused + greedy.failed, 4)
        // The benchmark's own table (the paper's table has a greedy row too): n, score, CI, failed, refused, …
        const row = ran.stdout.split("\n").find((line) => /^greedy\s+4\s/.test(line))!
        assert.deepStrictEqual(
          row
            .trim()
            .split(/\s{2,}/)
            .slice(4, 6),
          [String(greedy.failed), String(greedy.refused)],
        )
      }),
    120_000,
  )

  it.live(
    "a killed run resumes without redoing the rows it finished",
    () =>
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
    240_000,
  )

  it.live(
    "refuses what it cannot read, naming it: a missing TSV, a bad strategy, MMVet without a grader",
    () =>
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
        assert.include(judge.stderr, '"stage_beam:4@" is not STRATEGY[:N[:knockout|sequential]][/TEMPERATURE][@JUDGE]')
        const { files } = yield* Effect.promise(() => makeSixBenchmarks())
        const mmvet = yield* stagebeam(["eval", files[4]!, "--out", out])
        assert.strictEqual(mmvet.code, 2)
        assert.include(
          mmvet.stderr,
          "MMVet.tsv: the mmvet layout is scored by an LLM (as VLMEvalKit does): give --grader URL --grader-model NAME",
        )
      }),
    120_000,
  )
})
