import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { StrategySummary } from "./Summary.ts"

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

const pct = (x: number) => `${(100 * x).toFixed(1)}%`

const summaryTable = (summaries: ReadonlyArray<StrategySummary>) => `
<table>
  <thead><tr><th>strategy</th><th>n</th><th>accuracy</th><th>95% CI</th><th>errors</th><th>GPU slot-s / question</th><th>completion tokens / question</th><th>calls / question</th><th>latency p50</th><th>p90</th></tr></thead>
  <tbody>${summaries
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.strategy)}</td><td>${s.n}</td><td>${pct(s.accuracy)}</td><td>[${(100 * s.low).toFixed(1)}, ${(100 * s.high).toFixed(1)}]</td><td>${s.errors}</td><td>${s.slotSeconds.toFixed(2)}</td><td>${s.completionTokens.toFixed(0)}</td><td>${s.calls.toFixed(1)}</td><td>${s.latencyP50.toFixed(2)} s</td><td>${s.latencyP90.toFixed(2)} s</td></tr>`,
    )
    .join("")}</tbody>
</table>`

/**
 * The report: tables, and three plots drawn by Chart.js (inlined, so the file opens without a network): accuracy
 * against GPU cost per strategy (with its 95% interval), accuracy per category, and the latency distribution.
 */
export const renderReport = (options: {
  readonly title: string
  readonly dataset: string
  readonly summaries: ReadonlyArray<StrategySummary>
}): string => {
  const { summaries } = options
  const data = {
    strategies: summaries.map((s) => ({
      name: s.strategy,
      accuracy: s.accuracy,
      low: s.low,
      high: s.high,
      slotSeconds: Number.isFinite(s.slotSeconds) ? s.slotSeconds : 0,
      categories: s.categories,
      latencies: s.latencies,
    })),
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }
  h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
  table { border-collapse: collapse; } th, td { padding: 4px 10px; border-bottom: 1px solid #dde; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  .plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 24px; }
  .plot { height: 320px; position: relative; }
  .note { color: #667; max-width: 60em; }
</style>
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
<p class="note">Dataset ${escapeHtml(options.dataset)}. Accuracy with 95% Wilson intervals; a failed call counts as wrong.
GPU slot-seconds: the time each sample and judge call held a sequence slot on a server, summed per question (from the
search trace). Answers extracted from the conclusion as VLMEvalKit's can_infer does (no LLM fallback).</p>
${summaryTable(summaries)}
<div class="plots">
  <div><h2>Accuracy against GPU cost</h2><div class="plot"><canvas id="cost"></canvas></div></div>
  <div><h2>Accuracy per category</h2><div class="plot"><canvas id="categories"></canvas></div></div>
  <div><h2>Latency distribution</h2><div class="plot"><canvas id="latency"></canvas></div></div>
</div>
<script>${chartJsSource()}</script>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent)
  const colours = ["#3b6fd8", "#d8553b", "#2f9e6e", "#9b59b6", "#e0a800", "#17a2b8", "#6c757d"]
  const colour = (i) => colours[i % colours.length]
  Chart.defaults.animation = false
  new Chart(document.getElementById("cost"), {
    type: "scatter",
    data: {
      datasets: data.strategies.flatMap((s, i) => [
        { label: s.name, data: [{ x: s.slotSeconds, y: 100 * s.accuracy }], backgroundColor: colour(i), pointRadius: 6 },
        { label: s.name + " 95% CI", data: [{ x: s.slotSeconds, y: 100 * s.low }, { x: s.slotSeconds, y: 100 * s.high }],
          showLine: true, borderColor: colour(i), pointRadius: 0, borderWidth: 2 },
      ]),
    },
    options: {
      maintainAspectRatio: false,
      plugins: { legend: { labels: { filter: (item) => !item.text.endsWith("95% CI") } } },
      scales: { x: { title: { display: true, text: "GPU slot-seconds per question" }, beginAtZero: true },
                y: { title: { display: true, text: "accuracy (%)" }, min: 0, max: 100 } },
    },
  })
  const categories = [...new Set(data.strategies.flatMap((s) => Object.keys(s.categories)))]
  new Chart(document.getElementById("categories"), {
    type: "bar",
    data: {
      labels: categories,
      datasets: data.strategies.map((s, i) => ({
        label: s.name, backgroundColor: colour(i),
        data: categories.map((c) => (s.categories[c] ? 100 * s.categories[c].accuracy : null)),
      })),
    },
    options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100, title: { display: true, text: "accuracy (%)" } } } },
  })
  const all = data.strategies.flatMap((s) => s.latencies)
  const top = Math.max(0.001, ...all)
  const bins = 12
  const width = top / bins
  const labels = Array.from({ length: bins }, (_, b) => (b * width).toFixed(2) + "–" + ((b + 1) * width).toFixed(2) + " s")
  new Chart(document.getElementById("latency"), {
    type: "bar",
    data: {
      labels,
      datasets: data.strategies.map((s, i) => ({
        label: s.name, backgroundColor: colour(i),
        data: labels.map((_, b) => s.latencies.filter((l) => Math.min(bins - 1, Math.floor(l / width)) === b).length),
      })),
    },
    options: { maintainAspectRatio: false, scales: { y: { title: { display: true, text: "questions" }, beginAtZero: true } } },
  })
  document.body.dataset.ready = "true"
})()
</script>
</body>
</html>
`
}
