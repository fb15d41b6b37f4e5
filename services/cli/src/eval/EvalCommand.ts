import { mkdirSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { makeReasonerClient, type Sampling, toWire } from "@stagebeam/proto"
import { Presets, SingleBar } from "cli-progress"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { callMetadata, clientOptions, connectionFlags, described } from "../Connection.ts"
import { CliFailure, EXIT, fromStatus } from "../ExitCodes.ts"
import { checkTlsFiles } from "../Reason.ts"
import { datasetName, type Item, LAYOUTS, type Layout, layoutOfName, readDataset } from "./Dataset.ts"
import { type Grader, makeGrader } from "./Grader.ts"
import { canInfer } from "./Matching.ts"
import { allPairs, comparePaired } from "./Paired.ts"
import { paperColumnOf } from "./PaperTable.ts"
import { writeVlmevalFiles } from "./Predictions.ts"
import { describeFleet, simulatedBanner } from "./Provenance.ts"
import { renderReport } from "./Report.ts"
import { keyOf, openResults, type RowResult } from "./Results.ts"
import { runRow, type ScoredText } from "./Run.ts"
import { type DatasetScore, needsGrader, scoreDataset } from "./Scoring.ts"
import { checkResume, type RunSettings } from "./Settings.ts"
import { parseStrategies } from "./Strategies.ts"
import { type BenchmarkSummary, formatSummary, summarizeConfiguration } from "./Summary.ts"
import { VLMEVALKIT_COMMIT } from "./Vlmeval.ts"

const flags = {
  ...connectionFlags,
  out: Flag.String("out").pipe(
    Flag.withAlias("o"),
    described(
      "Directory for results.jsonl (appended, so a stopped run resumes), settings.json, summary.json, report.html and VLMEvalKit's files per configuration",
      "required",
    ),
  ),
  strategies: Flag.String("strategies").pipe(
    Flag.withAlias("s"),
    described(
      "Configurations side by side: STRATEGY[:N[:knockout|sequential]][/TEMPERATURE][@JUDGE], comma-separated (e.g. greedy/0,stage_beam:2,swires:4@reward)",
      "greedy,stage_beam:4",
    ),
    Flag.withDefault("greedy,stage_beam:4"),
  ),
  preset: Flag.Literals("preset", ["default", "reference"] as const).pipe(
    described("Selection rules of every configuration", "default"),
    Flag.withDefault("default"),
  ),
  layout: Flag.Literals("layout", ["auto", ...LAYOUTS] as const).pipe(
    described(
      "How the TSVs are scored (auto: by the file's name, as VLMEvalKit does: MMBench circular, HallusionBench yes/no, MMVet, MathVista, else multiple choice)",
      "auto",
    ),
    Flag.withDefault("auto"),
  ),
  score: Flag.Literals("score", ["conclusion", "full"] as const).pipe(
    described(
      "The prediction VLMEvalKit scores: the CONCLUSION's text (the authors' advice) or the whole output",
      "conclusion",
    ),
    Flag.withDefault("conclusion"),
  ),
  grader: Flag.String("grader").pipe(
    described(
      "An OpenAI-compatible endpoint for VLMEvalKit's LLM steps (MCQ and yes/no extraction, MMVet grading, MathVista extraction); without it MCQ falls back on exact matching and MMVet/MathVista cannot be scored",
      "none",
    ),
    Flag.optional,
  ),
  graderModel: Flag.String("grader-model").pipe(
    described(
      "The model the grader endpoint serves (VLMEvalKit used gpt-4-turbo for MMVet and MathVista)",
      "required with --grader",
    ),
    Flag.optional,
  ),
  graderKeyFile: Flag.String("grader-key-file").pipe(
    described("A file whose first line is the grader's API key (else $STAGEBEAM_GRADER_KEY)", "none"),
    Flag.optional,
  ),
  temperature: Flag.Finite("temperature").pipe(
    described("Sampling temperature of every configuration without its own /T (0: greedy decoding)", "the paper's 0.6"),
    Flag.optional,
  ),
  concurrency: Flag.Int("concurrency").pipe(
    Flag.withAlias("c"),
    described("Searches in flight at once, over all configurations", "4"),
    Flag.withDefault(4),
  ),
  limit: Flag.Int("limit").pipe(described("Only the first N rows of each TSV (0: all)", "0"), Flag.withDefault(0)),
  seed: Flag.Int("seed").pipe(
    described("Row i of every configuration runs with seed SEED+i (0: random seeds)", "1"),
    Flag.withDefault(1),
  ),
  deadline: Flag.Int("deadline").pipe(described("Seconds each search may take", "600"), Flag.withDefault(600)),
  progress: Flag.Literals("progress", ["auto", "always", "never"] as const).pipe(
    described("The progress bar with ETA on stderr (auto: when stderr is a terminal)", "auto"),
    Flag.withDefault("auto"),
  ),
}

const usage = (message: string) => new CliFailure({ message, exitCode: EXIT.usage })

export const evaluate = Command.make(
  "eval",
  {
    files: Argument.String("file").pipe(
      Argument.withDescription(
        "VLMEvalKit TSVs (MMStar.tsv, MMBench_DEV_EN.tsv, AI2D_TEST.tsv, HallusionBench.tsv, MMVet.tsv, MathVista_MINI.tsv, …)",
      ),
      Argument.variadic({ min: 1 }),
    ),
    ...flags,
  },
  (input) =>
    Effect.gen(function* () {
      if (input.concurrency < 1) return yield* Effect.fail(usage("--concurrency must be at least 1"))
      const strategies = yield* parseStrategies(input.strategies, input.preset)
      yield* checkTlsFiles(input)
      const graderUrl = Option.getOrUndefined(input.grader)
      const graderModel = Option.getOrUndefined(input.graderModel)
      if ((graderUrl === undefined) !== (graderModel === undefined))
        return yield* Effect.fail(usage("--grader and --grader-model go together"))
      const datasets: Array<{
        name: string
        layout: Layout
        columns: ReadonlyArray<string>
        items: ReadonlyArray<Item>
      }> = []
      for (const file of input.files) {
        const layout = input.layout === "auto" ? layoutOfName(file) : input.layout
        if (needsGrader(layout) && graderUrl === undefined) {
          return yield* Effect.fail(
            usage(
              `${basename(file)}: the ${layout} layout is scored by an LLM (as VLMEvalKit does): give --grader URL --grader-model NAME`,
            ),
          )
        }
        const { columns, items } = yield* readDataset(file, layout)
        const name = datasetName(file)
        if (datasets.some((d) => d.name === name)) return yield* Effect.fail(usage(`${name}: given twice`))
        datasets.push({ name, layout, columns, items: input.limit > 0 ? items.slice(0, input.limit) : items })
      }
      const grader: Grader | undefined =
        graderUrl === undefined || graderModel === undefined
          ? undefined
          : yield* makeGrader({
              url: graderUrl,
              model: graderModel,
              keyFile: Option.getOrUndefined(input.graderKeyFile),
              timeout: 120,
            })
      const temperature = Option.getOrUndefined(input.temperature)
      if (temperature !== undefined && temperature < 0)
        return yield* Effect.fail(usage("--temperature must be at least 0"))
      const scored: ScoredText = input.score

      const client = yield* makeReasonerClient({
        ...clientOptions(input),
        defaultDeadline: `${input.deadline} seconds`,
      })
      const metadata = callMetadata(input)
      const fleet = yield* describeFleet(client, metadata, input.address)

      mkdirSync(input.out, { recursive: true })
      const samplingOf = (t: number | undefined): Sampling => (t === undefined ? {} : { temperature: t })
      const settings: RunSettings = {
        dataset: datasets.map((d) => d.name).join(","),
        layout: datasets.map((d) => d.layout).join(","),
        rows: datasets.reduce((n, d) => n + d.items.length, 0),
        scored,
        preset: input.preset,
        seed: input.seed,
        sampling: { temperature: temperature ?? null, topP: null, maxTokens: null },
        configurations: strategies.map((s) => ({
          label: s.label,
          search: { ...s.search, sampling: samplingOf(s.temperature ?? temperature) },
          judge: s.judge ?? null,
        })),
        fleet: fleet.identity,
      }
      yield* checkResume(input.out, settings)
      const results = openResults(join(input.out, "results.jsonl"))
      const tasks = datasets.flatMap((dataset) =>
        dataset.items.flatMap((item, position) =>
          strategies.map((strategy) => ({
            dataset,
            item,
            strategy,
            seed: input.seed === 0 ? 0 : input.seed + position,
          })),
        ),
      )
      const keyOfTask = (task: (typeof tasks)[number]) =>
        keyOf({ dataset: task.dataset.name, strategy: task.strategy.label, index: task.item.index })
      const pending = tasks.filter((task) => !results.finished.has(keyOfTask(task)))
      const done = tasks.length - pending.length
      if (fleet.simulated) yield* Console.error(simulatedBanner)
      yield* Console.error(
        `${datasets.map((d) => `${d.name} (${d.layout}, ${d.items.length} rows)`).join(", ")} × ${strategies.length} configurations (${strategies.map((s) => s.label).join(", ")})` +
          (done > 0 ? `; resuming: ${done} of ${tasks.length} already in ${join(input.out, "results.jsonl")}` : ""),
      )

      const showBar = input.progress === "always" || (input.progress === "auto" && process.stderr.isTTY === true)
      const bar = new SingleBar(
        {
          stream: process.stderr,
          format: "eval |{bar}| {value}/{total} · {percentage}% · ETA {eta_formatted} · {accuracy}",
          noTTYOutput: input.progress === "always",
          notTTYSchedule: 1000,
          etaBuffer: 50,
          hideCursor: true,
        },
        Presets.shades_classic,
      )
      // The bar's running figure: letters can_infer reads right (multiple choice only; the final scores come after).
      const tally = new Map<string, { correct: number; n: number }>()
      const accuracyText = () =>
        [...tally.entries()].map(([label, t]) => `${label} ${((100 * t.correct) / t.n).toFixed(0)}%`).join(" · ")
      const items = new Map(tasks.map((task) => [keyOfTask(task), task.item]))
      const record = (result: RowResult) => {
        const item = items.get(keyOf(result))
        if (item === undefined || Object.keys(item.choices).length === 0) return
        const t = tally.get(result.strategy) ?? { correct: 0, n: 0 }
        tally.set(result.strategy, {
          correct: t.correct + (canInfer(result.prediction, item.choices) === item.answer ? 1 : 0),
          n: t.n + 1,
        })
      }
      for (const result of results.finished.values()) record(result)
      if (showBar) bar.start(tasks.length, done, { accuracy: accuracyText() })
      yield* Effect.forEach(
        pending,
        ({ dataset, item, strategy, seed }) =>
          Effect.map(
            runRow(client, metadata, strategy, dataset.name, item, seed, {
              scored,
              sampling: samplingOf(strategy.temperature ?? temperature),
            }),
            (result) => {
              results.append(result)
              record(result)
              if (showBar) bar.increment(1, { accuracy: accuracyText() })
            },
          ),
        { concurrency: input.concurrency, discard: true },
      ).pipe(Effect.ensuring(Effect.sync(() => showBar && bar.stop())))

      if (grader !== undefined) yield* Console.error(`scoring with the grader ${grader.model} at ${grader.url}…`)
      const benchmarks: Array<BenchmarkSummary> = []
      for (const dataset of datasets) {
        const configurations: Array<ReturnType<typeof summarizeConfiguration>> = []
        const scores: Array<{
          name: string
          units: DatasetScore["units"]
          rows: DatasetScore["rows"]
          predictions: Map<string, string>
        }> = []
        let headline = ""
        for (const strategy of strategies) {
          const rows: Array<RowResult> = []
          // Rows whose last try failed for now (retried by the next run): refused by the gateway, or failed.
          let failedForNow = 0
          let refusedForNow = 0
          const predictions = new Map<string, string>()
          for (const item of dataset.items) {
            const key = keyOf({ dataset: dataset.name, strategy: strategy.label, index: item.index })
            const row = results.finished.get(key)
            if (row === undefined) {
              if (results.failed.get(key)?.refused === true) refusedForNow++
              else failedForNow++
            } else rows.push(row)
            // A failed row is scored as an empty prediction: wrong, as VLMEvalKit scores an answer it cannot read.
            predictions.set(item.index, row?.prediction ?? "")
          }
          const score = yield* scoreDataset(dataset.layout, dataset.name, dataset.items, predictions, grader)
          const files = writeVlmevalFiles({
            dir: input.out,
            model: strategy.label,
            dataset: dataset.name,
            columns: dataset.columns,
            items: dataset.items,
            predictions,
            score,
          })
          headline = score.headlineName
          scores.push({ name: strategy.label, units: score.units, rows: score.rows, predictions })
          configurations.push(
            summarizeConfiguration(
              strategy.label,
              dataset.items.length,
              rows,
              { failedForNow, refusedForNow },
              score,
              files,
            ),
          )
        }
        benchmarks.push({
          dataset: dataset.name,
          layout: dataset.layout,
          column: paperColumnOf(dataset.name, dataset.layout),
          headline,
          configurations,
          paired: allPairs(scores).map(([a, b]) => comparePaired(a, b)),
          questions: dataset.items.map((item) => ({
            index: item.index,
            answer: item.answer,
            byStrategy: Object.fromEntries(
              scores.map((s) => {
                const row = s.rows.find((r) => r.index === item.index)
                return [
                  s.name,
                  {
                    prediction: s.predictions.get(item.index) ?? "",
                    extracted: row?.extracted ?? "",
                    score: row?.score ?? Number.NaN,
                  },
                ]
              }),
            ),
          })),
        })
      }
      const provenance = {
        ...fleet.provenance,
        vlmevalkit: { repository: "open-compass/VLMEvalKit", commit: VLMEVALKIT_COMMIT },
        preset: input.preset,
        seed: input.seed,
        scored,
        sampling: { temperature: temperature ?? "the gateway's default (the paper's 0.6)" },
        configurations: strategies.map((s) => {
          const first = [...results.finished.values()].find((row) => row.strategy === s.label && row.selection !== null)
          return {
            label: s.label,
            search: s.search,
            judge: s.judge ?? "the gateway's default",
            temperature: s.temperature ?? temperature ?? null,
            selection: first?.selection ?? null,
          }
        }),
        grader: grader === undefined ? null : { url: grader.url, model: grader.model, failedCalls: grader.failures() },
      }
      yield* Console.log(formatSummary(benchmarks, fleet.simulated ? simulatedBanner : undefined))
      writeFileSync(
        join(input.out, "summary.json"),
        `${JSON.stringify(
          // The files' one convention (snake_case, numbers); VLMEvalKit's metric names are kept as it writes them.
          toWire(
            {
              simulated: fleet.simulated,
              provenance,
              benchmarks: benchmarks.map(({ questions: _, ...b }) => ({
                ...b,
                configurations: b.configurations.map(({ latencies: __, ...c }) => c),
              })),
            },
            { records: ["metrics"] },
          ),
          null,
          2,
        )}\n`,
      )
      const report = join(input.out, "report.html")
      writeFileSync(
        report,
        renderReport({
          title: `stagebeam eval: ${datasets.map((d) => d.name).join(", ")}`,
          simulated: fleet.simulated,
          provenance: toWire(provenance),
          benchmarks,
        }),
      )
      yield* Console.error(`results: ${join(input.out, "results.jsonl")}; report: ${report}`)
      const missing = tasks.filter((task) => !results.finished.has(keyOfTask(task))).length
      if (missing > 0) {
        return yield* Effect.fail(
          new CliFailure({
            message: `${missing} rows failed for now (the gateway could not answer them; scored as wrong above); run the same command again to retry them`,
            exitCode: EXIT.unavailable,
          }),
        )
      }
    }).pipe(
      Effect.scoped,
      Effect.catchTag("GrpcStatusError", (error) => Effect.fail(fromStatus(error))),
    ),
).pipe(
  Command.withDescription(
    "Run VLMEvalKit TSVs (the paper's six benchmarks) through configurations side by side, scored by VLMEvalKit's rules: the paper's table, paired comparisons, VLMEvalKit's prediction and score files, report.html",
  ),
)
