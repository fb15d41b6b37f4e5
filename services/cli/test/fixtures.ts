import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import sharp from "sharp"

/** A TSV cell as pandas writes it: quoted when it holds a tab, a newline or a quote. */
const cell = (value: string) => (/[\t\n"]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)

const image = async (i: number) => {
  const hue = (i * 53) % 360
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="hsl(${hue},60%,70%)"/><rect x="16" y="16" width="${12 + (i % 5) * 6}" height="24" fill="hsl(${(hue + 180) % 360},60%,40%)"/></svg>`
  return (await sharp(Buffer.from(svg)).png().toBuffer()).toString("base64")
}

const write = async (dir: string, name: string, rows: ReadonlyArray<Record<string, string>>) => {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row))), "image"]
  const lines = [columns.join("\t")]
  for (const [i, row] of rows.entries()) {
    // Every third row names the previous row's image by its index, as VLMEvalKit's files do.
    const picture = i % 3 === 2 ? rows[i - 1]!.index! : await image(i)
    lines.push(columns.map((c) => cell(c === "image" ? picture : (row[c] ?? ""))).join("\t"))
  }
  const path = join(dir, name)
  writeFileSync(path, `${lines.join("\n")}\n`)
  return path
}

/** The rotations of an MMBench question (index + k·1e6), the options turned by k, the answer letter with them. */
const rotations = (base: number, question: string, texts: ReadonlyArray<string>, right: string, category: string) =>
  [0, 1, 2, 3].map((k) => {
    const rotated = [...texts.slice(k), ...texts.slice(0, k)]
    return {
      index: String(base + k * 1_000_000),
      question,
      hint: "",
      A: rotated[0]!,
      B: rotated[1]!,
      C: rotated[2]!,
      D: rotated[3]!,
      answer: "ABCD"[rotated.indexOf(right)]!,
      category,
      "l2-category": "perception",
      split: "dev",
    }
  })

/**
 * Small made-up TSVs of the paper's six benchmarks, each in its VLMEvalKit layout (images made with sharp): MMStar
 * and AI2D multiple choice, an MMBench rotation group, a HallusionBench question group, MMVet open answers and
 * MathVista with a multiple-choice, an integer and a float question.
 */
export const makeSixBenchmarks = async () => {
  const dir = mkdtempSync(join(tmpdir(), "stagebeam-six-"))
  const mcq = (index: number, question: string, options: ReadonlyArray<string>, answer: string, category: string) => ({
    index: String(index),
    question,
    hint: index % 2 === 0 ? "Look at the whole picture before answering." : "",
    A: options[0]!,
    B: options[1]!,
    C: options[2]!,
    D: options[3]!,
    answer,
    category,
    "l2-category": "object",
  })
  const mmstar = await write(dir, "MMStar.tsv", [
    mcq(
      0,
      "What is the weather like in the scene shown in the image?",
      ["Rainy", "Stormy", "Sunny", "Snowy"],
      "C",
      "coarse perception",
    ),
    mcq(1, "What is the woman holding in the image?", ["Dog", "Boat", "Backpack", "Bus"], "C", "instance reasoning"),
    mcq(2, "How many cups are on the table?", ["1", "2", "3", "4"], "B", "fine-grained perception"),
    mcq(3, 'What colour is the "large" car?', ["Red", "Blue", "Green", "White"], "A", "fine-grained perception"),
  ])
  const ai2d = await write(dir, "AI2D_TEST.tsv", [
    mcq(10, "Which stage comes after the larva?", ["egg", "pupa", "adult", "nymph"], "B", "life cycle"),
    mcq(11, "What does the arrow from the sun point to?", ["plant", "rabbit", "fox", "soil"], "A", "food web"),
    mcq(12, "Which layer is the outermost?", ["crust", "mantle", "outer core", "inner core"], "A", "earth"),
  ])
  const mmbench = await write(dir, "MMBench_DEV_EN.tsv", [
    ...rotations(1, "Which animal is in the picture?", ["cat", "dog", "owl", "eel"], "owl", "coarse_perception"),
    ...rotations(
      2,
      "What is the main colour of the wall?",
      ["red", "blue", "green", "white"],
      "white",
      "attribute_reasoning",
    ),
  ])
  const yn = (index: string, question: string, answer: "Yes" | "No", category: string, l2: string) => ({
    index,
    question,
    answer,
    category,
    "l2-category": l2,
  })
  const hallusion = await write(dir, "HallusionBench.tsv", [
    yn("VS_chart_0_1_0_0", "Is the line in the chart rising?", "Yes", "VS", "chart"),
    yn("VS_chart_0_1_1_0", "Is the line in the chart rising?", "No", "VS", "chart"),
    yn("VS_chart_0_1_0_1", "Is the bar for 2020 the tallest?", "No", "VS", "chart"),
    yn("VS_chart_0_1_1_1", "Is the bar for 2020 the tallest?", "No", "VS", "chart"),
    yn("VD_math_0_2_0_0", "Is the angle in the figure 90 degrees?", "Yes", "VD", "math"),
  ])
  const mmvet = await write(dir, "MMVet.tsv", [
    { index: "v1", question: "What is written on the sign?", answer: "STOP", category: "ocr,rec" },
    { index: "v2", question: "What is the total price of the two items?", answer: "12<OR>$12", category: "ocr,math" },
    { index: "v3", question: "Which two countries are named?", answer: "Iceland<AND>Greenland", category: "rec,know" },
  ])
  const mathvista = await write(dir, "MathVista_MINI.tsv", [
    {
      index: "m1",
      question:
        "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\nQuestion: What fraction of the shape is blue?\nChoices:\n(A) 3/11\n(B) 8/11\n(C) 6/11\n(D) 3/5",
      answer: "8/11",
      answer_option: "B",
      choices: "['3/11', '8/11', '6/11', '3/5']",
      question_type: "multi_choice",
      answer_type: "text",
      task: "figure question answering",
      skills: "['arithmetic reasoning', 'statistical reasoning']",
    },
    {
      index: "m2",
      question:
        "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.\nQuestion: How many objects are left?",
      answer: "3",
      question_type: "free_form",
      answer_type: "integer",
      task: "math word problem",
      skills: "['arithmetic reasoning']",
    },
    {
      index: "m3",
      question:
        "Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.\nQuestion: What is the length of the rod?",
      answer: "2.5",
      question_type: "free_form",
      answer_type: "float",
      task: "geometry problem solving",
      skills: "['geometry reasoning']",
    },
  ])
  return { dir, files: [mmstar, ai2d, mmbench, hallusion, mmvet, mathvista] }
}
