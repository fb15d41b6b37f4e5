import { createReadStream } from "node:fs"
import { parse } from "csv-parse"
import { Effect } from "effect"
import { invalidInput } from "../ExitCodes.ts"

/** One multiple-choice item of a VLMEvalKit dataset. */
export interface Item {
  readonly index: string
  readonly question: string
  readonly hint: string | undefined
  /** Option letters (A, B, …) to their texts, in order. */
  readonly options: Readonly<Record<string, string>>
  readonly answer: string
  readonly category: string
  readonly l2Category: string
  /** The image as base64 (another row's when this row names it), if the row has one. */
  readonly image: string | undefined
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("")

/** A cell pandas wrote for a missing value. */
const missing = (value: string | undefined) => value === undefined || value === "" || value === "nan" || value === "NaN"

/**
 * Reads a VLMEvalKit TSV (pandas' to_csv with sep="\t": a header row, fields quoted when they hold tabs, newlines
 * or quotes): columns index, image, question, hint, A, B, …, answer, category, l2-category (split ignored). As
 * VLMEvalKit does, an image cell of 64 characters or fewer is the index of the row that holds the image.
 */
export const readTsv = (path: string) =>
  Effect.gen(function* () {
    const rows = yield* Effect.tryPromise({
      try: async () => {
        const records: Array<Record<string, string>> = []
        const parser = parse({
          delimiter: "\t",
          columns: true,
          relax_quotes: true,
          relax_column_count: true,
          bom: true,
        })
        const input = createReadStream(path)
        // A file that cannot be opened fails the parse (instead of an unhandled stream error).
        input.on("error", (error) => parser.destroy(error))
        input.pipe(parser)
        for await (const record of parser) records.push(record as Record<string, string>)
        return records
      },
      catch: (error) =>
        invalidInput(
          `cannot read the TSV ${path}: ${error instanceof Error && "code" in error && error.code === "ENOENT" ? "no such file" : String(error instanceof Error ? error.message : error)}`,
        ),
    })
    if (rows.length === 0) return yield* Effect.fail(invalidInput(`the TSV ${path} has no rows`))
    for (const column of ["index", "question", "answer"]) {
      if (!(column in rows[0]!)) {
        return yield* Effect.fail(
          invalidInput(
            `the TSV ${path} has no "${column}" column (VLMEvalKit's: index, image, question, A, B, …, answer)`,
          ),
        )
      }
    }
    const images = new Map(rows.map((row) => [row.index ?? "", row.image ?? ""]))
    const items: Array<Item> = []
    for (const [position, row] of rows.entries()) {
      const line = position + 2
      const options = Object.fromEntries(
        LETTERS.filter((letter) => !missing(row[letter])).map((letter) => [letter, row[letter]!]),
      )
      if (Object.keys(options).length < 2) {
        return yield* Effect.fail(
          invalidInput(`${path}:${line} (index ${row.index}): fewer than two options (columns A, B, …)`),
        )
      }
      const answer = (row.answer ?? "").trim()
      if (!(answer in options)) {
        return yield* Effect.fail(
          invalidInput(`${path}:${line} (index ${row.index}): answer "${answer}" is not an option letter`),
        )
      }
      let image = missing(row.image) ? undefined : row.image
      if (image !== undefined && image.length <= 64) {
        const target = images.get(image)
        if (target === undefined || target.length <= 64) {
          return yield* Effect.fail(
            invalidInput(`${path}:${line} (index ${row.index}): image names row ${image}, which holds no image`),
          )
        }
        image = target
      }
      items.push({
        index: row.index ?? String(position),
        question: row.question ?? "",
        hint: missing(row.hint) ? undefined : row.hint,
        options,
        answer,
        category: missing(row.category) ? "none" : row.category!,
        l2Category: missing(row["l2-category"]) ? "none" : row["l2-category"]!,
        image,
      })
    }
    return items
  })

/**
 * The prompt VLMEvalKit's ImageMCQDataset.build_prompt writes for an item (vlmeval/dataset/image_mcq.py): an
 * optional "Hint: …" line, "Question: …", then "Options:" with one "X. text" line per option and the instruction.
 */
export const promptOf = (item: Item): string => {
  let prompt = item.hint === undefined ? "" : `Hint: ${item.hint}\n`
  prompt += `Question: ${item.question}\n`
  prompt += "Options:\n"
  for (const [letter, text] of Object.entries(item.options)) prompt += `${letter}. ${text}\n`
  prompt += "Please select the correct answer from the options above. \n"
  return prompt
}
