import { mkdirSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { makeReasonerClient } from "@stagebeam/proto"
import { Presets, SingleBar } from "cli-progress"
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { callMetadata, clientOptions, connectionFlags, described } from "../Connection.ts"
import { CliFailure, EXIT, fromStatus } from "../ExitCodes.ts"
import { checkTlsFiles } from "../Reason.ts"
import { renderReport } from "./Report.ts"
import { keyOf, openResults, type RowResult } from "./Results.ts"
import { runRow } from "./Run.ts"
import { parseStrategies } from "./Strategies.ts"
import { formatSummary, summarize } from "./Summary.ts"
import { readTsv } from "./Tsv.ts"

const flags = {
  ...connectionFlags,
  out: Flag.String("out").pipe(
    Flag.withAlias("o"),
    described(
      "Directory for results.jsonl (appended, so a stopped run resumes), summary.json and report.html",
      "required",
    ),
  ),
  strategies: Flag.String("strategies").pipe(
    Flag.withAlias("s"),
    described(
      "Configurations side by side: STRATEGY[:N[:knockout|sequential]][@JUDGE], comma-separated (e.g. swires:4@reward)",
      "greedy,stage_beam:4",
    ),
    Flag.withDefault("greedy,stage_beam:4"),
  ),
  preset: Flag.Literals("preset", ["default", "reference"] as const).pipe(
    described("Selection rules of every configuration", "default"),
    Flag.withDefault("default"),
  ),
  concurrency: Flag.Int("concurrency").pipe(
    Flag.withAlias("c"),
    described("Searches in flight at once, over all configurations", "4"),
    Flag.withDefault(4),
  ),
  limit: Flag.Int("limit").pipe(described("Only the first N rows (0: all)", "0"), Flag.withDefault(0)),
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

export const evaluate = Command.make(
  "eval",
  {
    file: Argument.String("file").pipe(
      Argument.withDescription("A VLMEvalKit TSV (MMStar.tsv, MMBench_DEV_EN.tsv, …)"),
    ),
    ...flags,
  },
  (input) =>
    Effect.gen(function* () {
      if (input.concurrency < 1) {
        return yield* Effect.fail(new CliFailure({ message: "--concurrency must be at least 1", exitCode: EXIT.usage }))
      }
      const strategies = yield* parseStrategies(input.strategies, input.preset)
      yield* checkTlsFiles(input)
      const all = yield* readTsv(input.file)
      const items = input.limit > 0 ? all.slice(0, input.limit) : all
      mkdirSync(input.out, { recursive: true })
      const results = openResults(join(input.out, "results.jsonl"))
      const tasks = items.flatMap((item, position) =>
        strategies.map((strategy) => ({ item, strategy, seed: input.seed === 0 ? 0 : input.seed + position })),
      )
      const pending = tasks.filter(
        ({ item, strategy }) => !results.finished.has(keyOf({ strategy: strategy.label, index: item.index })),
      )
      const done = tasks.length - pending.length
      yield* Console.error(
        `${basename(input.file)}: ${items.length} rows × ${strategies.length} configurations (${strategies.map((s) => s.label).join(", ")})` +
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
      const tally = new Map<string, { correct: number; n: number }>()
      const accuracyText = () =>
        [...tally.entries()].map(([label, t]) => `${label} ${((100 * t.correct) / t.n).toFixed(0)}%`).join(" · ")
      const record = (result: RowResult) => {
        const t = tally.get(result.strategy) ?? { correct: 0, n: 0 }
        tally.set(result.strategy, { correct: t.correct + (result.correct ? 1 : 0), n: t.n + 1 })
      }
      for (const result of results.finished.values()) record(result)
      if (showBar) bar.start(tasks.length, done, { accuracy: accuracyText() })

      const client = yield* makeReasonerClient({
        ...clientOptions(input),
        defaultDeadline: `${input.deadline} seconds`,
      })
      const metadata = callMetadata(input)
      yield* Effect.forEach(
        pending,
        ({ item, strategy, seed }) =>
          Effect.map(runRow(client, metadata, strategy, item, seed), (result) => {
            results.append(result)
            record(result)
            if (showBar) bar.increment(1, { accuracy: accuracyText() })
          }),
        { concurrency: input.concurrency, discard: true },
      ).pipe(Effect.ensuring(Effect.sync(() => showBar && bar.stop())))

      const rows = tasks.flatMap(({ item, strategy }) => {
        const result = results.finished.get(keyOf({ strategy: strategy.label, index: item.index }))
        return result === undefined ? [] : [result]
      })
      const summaries = summarize(
        rows,
        strategies.map((s) => s.label),
      )
      yield* Console.log(formatSummary(summaries))
      writeFileSync(
        join(input.out, "summary.json"),
        `${JSON.stringify(
          summaries.map(({ latencies: _, ...s }) => s),
          null,
          2,
        )}\n`,
      )
      const report = join(input.out, "report.html")
      writeFileSync(
        report,
        renderReport({ title: `stagebeam eval: ${basename(input.file)}`, dataset: input.file, summaries }),
      )
      yield* Console.error(`results: ${join(input.out, "results.jsonl")}; report: ${report}`)
      const missing = tasks.length - rows.length
      if (missing > 0) {
        return yield* Effect.fail(
          new CliFailure({
            message: `${missing} rows failed for now (the gateway could not answer them); run the same command again to retry them`,
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
    "Run a VLMEvalKit multiple-choice TSV through strategies side by side: accuracy (95% CI), GPU cost, latency, report.html",
  ),
)
