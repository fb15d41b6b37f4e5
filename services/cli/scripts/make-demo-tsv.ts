/**
 * Writes data/demo-mcq.tsv: a small multiple-choice set in VLMEvalKit's TSV format (the format of MMStar.tsv and
 * MMBench_DEV_EN.tsv) for the tests and the demo of `stagebeam eval`. The questions are the simulator's synthetic
 * ones, so the simulated fleet knows their answers; the images are small PNGs made with sharp, and some rows name
 * another row's image by its index, as VLMEvalKit's files do.
 * Run: node --conditions=@stagebeam/source services/cli/scripts/make-demo-tsv.ts
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseQuestion, syntheticQuestions, truthFor } from "@stagebeam/vllm-sim"
import sharp from "sharp"
import { mcqPrompt } from "../src/eval/Dataset.ts"

const ROWS = 24
const COLUMNS = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "l2-category", "image"]

/** MMStar-like categories by what the question asks. */
const categoryOf = (stem: string): readonly [string, string] =>
  /color|shape/.test(stem)
    ? ["fine-grained perception", "attribute"]
    : /How many/.test(stem)
      ? ["fine-grained perception", "counting"]
      : /weather|room/.test(stem)
        ? ["coarse perception", "scene"]
        : ["instance reasoning", "object"]

const image = async (i: number) => {
  const hue = (i * 47) % 360
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="hsl(${hue},60%,70%)"/><circle cx="48" cy="48" r="${16 + (i % 4) * 6}" fill="hsl(${(hue + 180) % 360},60%,40%)"/></svg>`
  return (await sharp(Buffer.from(svg)).png().toBuffer()).toString("base64")
}

/** A TSV cell as pandas writes it: quoted when it holds a tab, a newline or a quote. */
const cell = (value: string) => (/[\t\n"]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)

const lines = [COLUMNS.join("\t")]
for (const [i, q] of syntheticQuestions(ROWS, 2024).entries()) {
  const stem = q.question.split("\n")[0]!
  const [category, l2] = categoryOf(stem)
  const options = Object.fromEntries(q.options.map((o) => [o.letter, o.text]))
  const hint = i % 3 === 0 ? "Look at the whole picture before answering." : undefined
  const item = {
    index: String(i),
    question: stem,
    hint,
    options,
    answer: q.answer,
    category,
    l2Category: l2,
    image: undefined,
  }
  // The simulator must read the same answer from the prompt the eval sends.
  if (truthFor(parseQuestion(mcqPrompt(item.question, item.hint, item.options)).options) !== q.answer)
    throw new Error(`row ${i}: the prompt does not round-trip`)
  const picture = i % 4 === 3 ? String(i - 1) : await image(i)
  const row = [
    String(i),
    stem,
    hint ?? "",
    q.options[0]!.text,
    q.options[1]!.text,
    q.options[2]!.text,
    q.options[3]!.text,
    q.answer,
    category,
    l2,
    picture,
  ]
  lines.push(row.map(cell).join("\t"))
}
const out = join(import.meta.dirname, "../data/demo-mcq.tsv")
writeFileSync(out, `${lines.join("\n")}\n`)
console.log(`wrote ${out} (${ROWS} rows)`)
