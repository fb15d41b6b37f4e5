import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Item } from "./Dataset.ts"
import type { DatasetScore } from "./Scoring.ts"

/** A TSV cell as pandas' to_csv writes it (csv.QUOTE_MINIMAL): quoted when it holds a tab, a newline or a quote. */
const cell = (value: string | number) => {
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : value
  return /[\t\n\r"]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** A CSV cell (pandas' to_csv, sep=","). */
const csvCell = (value: string | number) => {
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : value
  return /[,\n\r"]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * One configuration's files as VLMEvalKit writes them under its work_dir/MODEL/: the predictions
 * `MODEL_DATASET.tsv` (the dataset's columns without the image, plus `prediction`; vlmeval.smp.load reads .tsv as
 * pd.read_csv(sep="\t")) and its score file `MODEL_DATASET_acc.csv` / `_score.csv`.
 */
export const writeVlmevalFiles = (options: {
  readonly dir: string
  readonly model: string
  readonly dataset: string
  readonly columns: ReadonlyArray<string>
  readonly items: ReadonlyArray<Item>
  readonly predictions: ReadonlyMap<string, string>
  readonly score: DatasetScore
}) => {
  const folder = join(options.dir, options.model)
  mkdirSync(folder, { recursive: true })
  // inference.py drops the image column before dumping the predictions.
  const columns = [...options.columns.filter((c) => c !== "image" && c !== "prediction"), "prediction"]
  const lines = [columns.map(cell).join("\t")]
  for (const item of options.items) {
    lines.push(
      columns
        .map((c) => cell(c === "prediction" ? (options.predictions.get(item.index) ?? "") : (item.row[c] ?? "")))
        .join("\t"),
    )
  }
  const base = join(folder, `${options.model}_${options.dataset}`)
  const predictions = `${base}.tsv`
  writeFileSync(predictions, `${lines.join("\n")}\n`)
  const scoreFile = `${base}_${options.score.scoreFile.name}`
  // pandas writes its row index as the first, unnamed column.
  const scoreLines = [["", ...options.score.scoreFile.header].map(csvCell).join(",")]
  for (const [i, row] of options.score.scoreFile.rows.entries()) scoreLines.push([i, ...row].map(csvCell).join(","))
  writeFileSync(scoreFile, `${scoreLines.join("\n")}\n`)
  return { predictions, scoreFile }
}
