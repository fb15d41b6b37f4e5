import { createReadStream } from "node:fs"
import { parse } from "csv-parse"
import { Effect } from "effect"
import { invalidInput } from "../ExitCodes.ts"

/** A VLMEvalKit TSV as read: its columns in order and its rows (every cell a string, as pandas wrote it). */
export interface Table {
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<Readonly<Record<string, string>>>
}

/** A cell pandas wrote for a missing value. */
export const missing = (value: string | undefined): value is undefined =>
  value === undefined || value === "" || value === "nan" || value === "NaN"

/**
 * Reads a VLMEvalKit TSV (pandas' to_csv with sep="\t": a header row, fields quoted when they hold tabs, newlines
 * or quotes). As VLMEvalKit does, an image cell of 64 characters or fewer is the index of the row that holds the
 * image; it is resolved here.
 */
export const readTable = (path: string) =>
  Effect.gen(function* () {
    const { columns, records } = yield* Effect.tryPromise({
      try: async () => {
        const records: Array<Record<string, string>> = []
        let columns: Array<string> = []
        const parser = parse({
          delimiter: "\t",
          columns: (header: Array<string>) => {
            columns = header
            return header
          },
          relax_quotes: true,
          relax_column_count: true,
          bom: true,
        })
        const input = createReadStream(path)
        // A file that cannot be opened fails the parse (instead of an unhandled stream error).
        input.on("error", (error) => parser.destroy(error))
        input.pipe(parser)
        for await (const record of parser) records.push(record as Record<string, string>)
        return { columns, records }
      },
      catch: (error) =>
        invalidInput(
          `cannot read the TSV ${path}: ${error instanceof Error && "code" in error && error.code === "ENOENT" ? "no such file" : String(error instanceof Error ? error.message : error)}`,
        ),
    })
    if (records.length === 0) return yield* Effect.fail(invalidInput(`the TSV ${path} has no rows`))
    const images = new Map(records.map((row) => [row.index ?? "", row.image ?? ""]))
    const rows: Array<Record<string, string>> = []
    for (const [position, row] of records.entries()) {
      const image = row.image
      if (!missing(image) && image.length <= 64) {
        const target = images.get(image)
        if (target === undefined || target.length <= 64) {
          return yield* Effect.fail(
            invalidInput(
              `${path}:${position + 2} (index ${row.index}): image names row ${image}, which holds no image`,
            ),
          )
        }
        rows.push({ ...row, image: target })
      } else rows.push(row)
    }
    return { columns, rows } satisfies Table
  })
