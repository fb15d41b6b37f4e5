import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { fixed, pairedCells } from "./Paired.ts"
import { type BenchmarkSummary, paperTable } from "./Summary.ts"

/** Chart.js's standalone build: from the package, or the copy next to a bundled CLI (dist/). */
const chartJsSource = (): string => {
  const bundled = join(dirname(fileURLToPath(import.meta.url)), "vendor", "chart.umd.min.js")
  if (existsSync(bundled)) return readFileSync(bundled, "utf8")
  const entry = createRequire(import.meta.url).resolve("chart.js")
  return readFileSync(join(dirname(entry), "chart.umd.min.js"), "utf8")
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!)

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c")

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, attributes = "") =>
  `<table${attributes}><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`

const benchmarkSection = (b: BenchmarkSummary) => `
<h2>${escapeHtml(b.dataset)} <span class="note">(${escapeHtml(b.layout)}; ${escapeHtml(b.headline)})</span></h2>
${table(
  [
    "configuration",
    "n",
    "score",
    "95% CI",
    "failed",
    "refused",
    "other figures",
    "GPU slot-s / q",
    "tokens / q",
    "calls / q",
    "p50",
    "p90",
    "deviations from the reference",
  ],
  b.configurations.map((c) => [
    c.strategy,
    String(c.n),
    fixed(c.score),
    c.low === null ? "—" : `[${fixed(c.low)}, ${fixed(c.high)}]`,
    String(c.failed),
    String(c.refused),
    Object.entries(c.metrics)
      .slice(0, 8)
      .map(([k, v]) => `${k} ${fixed(v)}`)
      .join(" · "),
    fixed(c.slotSeconds, 2),
    fixed(c.completionTokens, 0),
    fixed(c.calls, 1),
    `${fixed(c.latencyP50, 2)} s`,
    `${fixed(c.latencyP90, 2)} s`,
    c.deviations.length === 0 ? "none" : c.deviations.join(", "),
  ]),
)}
${
  b.paired.length === 0
    ? ""
    : `<h3>Paired comparisons</h3>${table(
        [
          "pair",
          "n",
          "difference (points)",
          "95% paired bootstrap",
          "only first right",
          "only second right",
          "McNemar exact p",
        ],
        b.paired.map(pairedCells),
      )}`
}
<details><summary>Per question (${b.questions.length})</summary>
${table(
  ["index", "answer", ...b.configurations.flatMap((c) => [c.strategy, "score"])],
  b.questions.map((q) => [
    q.index,
    q.answer,
    ...b.configurations.flatMap((c) => {
      const mine = q.byStrategy[c.strategy]
      const shown =
        mine === undefined
          ? "—"
          : mine.extracted !== ""
            ? `${mine.extracted} ← ${mine.prediction.slice(0, 120)}`
            : mine.prediction.slice(0, 120)
      return [
        shown,
        mine === undefined || !Number.isFinite(mine.score)
          ? "—"
          : mine.score === 1
            ? "✓"
            : mine.score === 0
              ? "✗"
              : fixed(mine.score, 2),
      ]
    }),
  ]),
  ' class="questions"',
)}
</details>`

/**
 * The report: the paper's table first (its published rows beside this run's configurations), a banner when the
 * servers were simulated, each benchmark's figures, paired comparisons and per-question view, the provenance,
 * and accuracy against GPU cost drawn by Chart.js (inlined, so the file opens without a network).
 */
export const renderReport = (options: {
  readonly title: string
  readonly simulated: boolean | "unknown"
  readonly provenance: unknown
  readonly benchmarks: ReadonlyArray<BenchmarkSummary>
}): string => {
  const paper = paperTable(options.benchmarks)
  const data = options.benchmarks.map((b) => ({
    dataset: b.dataset,
    points: b.configurations.map((c) => ({
      name: c.strategy,
      score: c.score,
      slotSeconds: Number.isFinite(c.slotSeconds) ? c.slotSeconds : 0,
    })),
  }))
  const banner =
    options.simulated === true
      ? `<div class="banner" id="simulated">SIMULATED SERVERS: these answers come from stagebeam's vLLM simulator, not from LLaVA-CoT. The scores below say nothing about the model.</div>`
      : options.simulated === "unknown"
        ? `<div class="banner" id="unknown">The gateway did not say whether its servers are simulated (it has no Describe).</div>`
        : ""
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }
  h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; } h3 { font-size: 14px; }
  table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 4px 10px; border-bottom: 1px solid #dde; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  table.questions td { text-align: left; max-width: 30em; overflow-wrap: anywhere; }
  tr.paper td { color: #667; }
  .banner { background: #fff1c2; border: 2px solid #e0a800; padding: 10px 14px; font-weight: 600; margin: 12px 0; }
  .plot { height: 320px; position: relative; max-width: 720px; }
  .note { color: #667; max-width: 60em; font-weight: normal; }
  pre { background: #f5f6fa; padding: 10px; overflow: auto; max-height: 420px; }
</style>
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
${banner}
<h2>The paper's table</h2>
<table id="paper-table"><thead><tr><th>configuration</th>${paper.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${paper.rows
    .map(
      (row) =>
        `<tr class="${row.measured ? "measured" : "paper"}"><td>${escapeHtml(row.name)}</td>${row.cells.map((c) => `<td>${c}</td>`).join("")}<td>${row.average}</td></tr>`,
    )
    .join("")}</tbody></table>
<p class="note">The paper's rows: arXiv 2411.10440 v1 (VLMEvalKit). This run's rows: scored by VLMEvalKit's rules and prompts
as at open-compass/VLMEvalKit 7de2dcbc (2024-11-14). HallusionBench: the mean of aAcc, fAcc and qAcc. The average only
when all six were run.</p>
${options.benchmarks.map(benchmarkSection).join("\n")}
<h2>Accuracy against GPU cost</h2><div class="plot"><canvas id="cost"></canvas></div>
<h2>Provenance</h2>
<pre id="provenance">${escapeHtml(JSON.stringify(options.provenance, null, 2))}</pre>
<script>${chartJsSource()}</script>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent)
  const colours = ["#3b6fd8", "#d8553b", "#2f9e6e", "#9b59b6", "#e0a800", "#17a2b8", "#6c757d"]
  Chart.defaults.animation = false
  new Chart(document.getElementById("cost"), {
    type: "scatter",
    data: {
      datasets: data.flatMap((b, i) => b.points.map((p) => ({
        label: b.dataset + " · " + p.name, data: [{ x: p.slotSeconds, y: p.score }], backgroundColor: colours[i % colours.length], pointRadius: 6,
      }))),
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { title: { display: true, text: "GPU slot-seconds per question" }, beginAtZero: true },
                y: { title: { display: true, text: "score" }, min: 0, max: 100 } },
    },
  })
  document.body.dataset.ready = "true"
})()
</script>
</body>
</html>
`
}
