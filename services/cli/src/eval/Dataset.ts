import { basename } from "node:path"
import { Effect } from "effect"
import { invalidInput } from "../ExitCodes.ts"
import type { Choices } from "./Matching.ts"
import { missing, readTable, type Table } from "./Tsv.ts"

/**
 * How a benchmark is scored, as VLMEvalKit keeps them (open-compass/VLMEvalKit@7de2dcbc, vlmeval/dataset):
 * multiple choice (MMStar, AI2D: ImageMCQDataset, mcq_vanilla_eval), circular multiple choice (MMBench:
 * mcq_circular_eval), yes/no (HallusionBench: ImageYORNDataset, Hallusion_rating), open answers graded by an LLM
 * (MMVet) and LLM extraction then matching (MathVista).
 */
export const LAYOUTS = ["mcq", "mmbench", "yorn", "mmvet", "mathvista"] as const
export type Layout = (typeof LAYOUTS)[number]

/** The layout VLMEvalKit picks by the dataset's name (listinstr on the name, as image_mcq.py and friends do). */
export const layoutOfName = (file: string): Layout => {
  const name = basename(file).toLowerCase()
  if (name.includes("mmbench") || name.includes("ccbench")) return "mmbench"
  if (name.includes("hallusion")) return "yorn"
  if (name.includes("mmvet") || name.includes("mm-vet")) return "mmvet"
  if (name.includes("mathvista")) return "mathvista"
  return "mcq"
}

/** The benchmark's name: the file's, without .tsv (MMStar, MMBench_DEV_EN, …). */
export const datasetName = (file: string) => basename(file).replace(/\.tsv$/i, "")

/** One question: its TSV row as read (every column), the prompt the model is asked, its image. */
export interface Item {
  readonly index: string
  readonly row: Readonly<Record<string, string>>
  readonly prompt: string
  readonly image: string | undefined
  readonly answer: string
  readonly category: string
  /** The option letters, for multiple-choice layouts (and MathVista's multi_choice questions: their choices). */
  readonly choices: Choices
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("")

/** vlmeval build_choices: the A…Z columns that are not empty. */
export const choicesOf = (row: Readonly<Record<string, string>>): Choices =>
  Object.fromEntries(LETTERS.filter((letter) => !missing(row[letter])).map((letter) => [letter, row[letter]!]))

/**
 * The prompt VLMEvalKit's ImageMCQDataset.build_prompt writes (vlmeval/dataset/image_mcq.py): an optional
 * "Hint: …" line, "Question: …", then "Options:" with one "X. text" line per option and the instruction. The other
 * layouts ask the question as it is (ImageBaseDataset.build_prompt; MathVista's question holds its hint and choices).
 */
export const mcqPrompt = (question: string, hint: string | undefined, choices: Choices): string => {
  let prompt = hint === undefined ? "" : `Hint: ${hint}\n`
  prompt += `Question: ${question}\n`
  prompt += "Options:\n"
  for (const [letter, text] of Object.entries(choices)) prompt += `${letter}. ${text}\n`
  prompt += "Please select the correct answer from the options above. \n"
  return prompt
}

/** MathVista's `choices` cell: a Python list literal of strings (eval'd by VLMEvalKit). */
export const pythonStringList = (cell: string): ReadonlyArray<string> | undefined => {
  const items: Array<string> = []
  const text = cell.trim()
  if (!text.startsWith("[") || !text.endsWith("]")) return undefined
  const literal = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y
  const body = text.slice(1, -1)
  literal.lastIndex = 0
  while (literal.lastIndex < body.length) {
    const match = literal.exec(body)
    if (match === null) return body.slice(literal.lastIndex).trim() === "" ? items : undefined
    items.push((match[1] ?? match[2] ?? "").replace(/\\(.)/g, "$1"))
  }
  return items
}

const REQUIRED: Readonly<Record<Layout, ReadonlyArray<string>>> = {
  mcq: ["index", "question", "answer", "A", "B"],
  mmbench: ["index", "question", "answer", "A", "B"],
  yorn: ["index", "question", "answer"],
  mmvet: ["index", "question", "answer", "category"],
  mathvista: ["index", "question", "answer", "question_type", "answer_type"],
}

/** Reads a benchmark's TSV and checks each row has what its layout's scoring reads, naming the row and the field. */
export const readDataset = (path: string, layout: Layout) =>
  Effect.gen(function* () {
    const table: Table = yield* readTable(path)
    for (const column of REQUIRED[layout]) {
      if (!table.columns.includes(column)) {
        return yield* Effect.fail(
          invalidInput(
            `the TSV ${path} has no "${column}" column (the ${layout} layout needs ${REQUIRED[layout].join(", ")})`,
          ),
        )
      }
    }
    const items: Array<Item> = []
    const seen = new Set<string>()
    for (const [position, row] of table.rows.entries()) {
      const where = `${path}:${position + 2} (index ${row.index})`
      const index = (row.index ?? "").trim()
      if (index === "" || seen.has(index))
        return yield* Effect.fail(invalidInput(`${where}: the index is empty or repeated`))
      seen.add(index)
      const answer = (row.answer ?? "").trim()
      const question = row.question ?? ""
      const hint = missing(row.hint) ? undefined : row.hint
      let choices: Choices = {}
      let prompt = question
      if (layout === "mcq" || layout === "mmbench") {
        choices = choicesOf(row)
        if (Object.keys(choices).length < 2)
          return yield* Effect.fail(invalidInput(`${where}: fewer than two options (columns A, B, …)`))
        if (!(answer in choices))
          return yield* Effect.fail(invalidInput(`${where}: answer "${answer}" is not an option letter`))
        if (layout === "mmbench" && !/^\d+$/.test(index))
          return yield* Effect.fail(invalidInput(`${where}: MMBench's circular evaluation needs integer indices`))
        prompt = mcqPrompt(question, hint, choices)
      } else if (layout === "yorn") {
        if (answer !== "Yes" && answer !== "No")
          return yield* Effect.fail(invalidInput(`${where}: answer "${answer}" is not Yes or No`))
        // Hallusion_rating reads the set, figure and question ids from the index's 4th-6th "_"-separated fields.
        if (/hallusion/i.test(basename(path)) && index.split("_").length < 6)
          return yield* Effect.fail(
            invalidInput(`${where}: a HallusionBench index is CATEGORY_SUBCATEGORY_…_SET_FIGURE_QUESTION (6 fields)`),
          )
      } else if (layout === "mathvista") {
        if (row.question_type === "multi_choice") {
          const list = missing(row.choices) ? undefined : pythonStringList(row.choices)
          if (list === undefined)
            return yield* Effect.fail(invalidInput(`${where}: choices is not a list of strings ('[...]')`))
          choices = Object.fromEntries(list.map((text, i) => [String.fromCharCode(65 + i), text]))
          if (missing(row.answer_option))
            return yield* Effect.fail(invalidInput(`${where}: a multi_choice question needs answer_option`))
        }
      }
      items.push({
        index,
        row,
        prompt,
        image: missing(row.image) ? undefined : row.image,
        answer,
        category: missing(row.category) ? "none" : row.category,
        choices,
      })
    }
    return { columns: table.columns, items }
  })
