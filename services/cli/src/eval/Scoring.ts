// Each layout scored as VLMEvalKit scores it, read at open-compass/VLMEvalKit@7de2dcbc (see Vlmeval.ts):
// multiple choice vlmeval/dataset/utils/multiple_choice.py (extract_answer_from_item, eval_vanilla,
// prefetch_circular_group, eval_circular_group, report_acc), yes/no vlmeval/dataset/image_yorn.py evaluate and
// utils/yorn.py (YOrN_auxeval, Hallusion_rating), utils/mmvet.py (MMVet_auxeval, MMVet_acc) and utils/mathvista.py
// (post_check, MathVista_auxeval, MathVista_acc).
import { Effect } from "effect"
import type { Item, Layout } from "./Dataset.ts"
import { pythonStringList } from "./Dataset.ts"
import type { Grader } from "./Grader.ts"
import { choiceExtractionPrompt, mathvistaPrompt, mmvetPrompt, yesNoPrompt } from "./GradingPrompts.ts"
import { type Choices, canInfer, yesOrNo } from "./Matching.ts"
import { FAIL_MSG } from "./Vlmeval.ts"

/** One row as scored: its score (0–1), what was extracted from the prediction, how. */
export interface RowScore {
  readonly index: string
  readonly score: number
  readonly extracted: string
  readonly log: string
}

/** One configuration's scores on one benchmark. */
export interface DatasetScore {
  /** The benchmark's figure as the paper's table reports it (0–100). */
  readonly headline: number
  /** What the headline is: "accuracy", "circular accuracy", "mean of aAcc, fAcc, qAcc", "GPT score". */
  readonly headlineName: string
  /** Named figures (0–100): Overall, aAcc/fAcc/qAcc, per category… */
  readonly metrics: Readonly<Record<string, number>>
  readonly rows: ReadonlyArray<RowScore>
  /** The units the headline averages (rows, or MMBench's circular groups), for paired comparisons. */
  readonly units: ReadonlyArray<{ readonly id: string; readonly score: number }>
  /** VLMEvalKit's score file: its header and rows. */
  readonly scoreFile: {
    readonly name: string
    readonly header: ReadonlyArray<string>
    readonly rows: ReadonlyArray<ReadonlyArray<string | number>>
  }
}

/** FNV-1a: a fixed stand-in for VLMEvalKit's unseeded rd.choice, so a fallback is the same on every run. */
const hash = (text: string) => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

const mean = (values: ReadonlyArray<number>) =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length

/**
 * extract_answer_from_item: can_infer on the prediction; else, with a grader, its answer to the extraction prompt
 * (3 tries, temperature 0); then a fallback among the options and Z (VLMEvalKit's rd.choice, here a fixed choice
 * by the row's index); without a grader ("exact_matching") Z.
 */
export const extractChoiceOf = (
  grader: Grader | undefined,
  question: string,
  choices: Choices,
  prediction: string,
  index: string,
): Effect.Effect<{ readonly option: string; readonly log: string }> =>
  Effect.gen(function* () {
    const inferred = canInfer(prediction, choices)
    if (inferred) return { option: inferred, log: prediction }
    if (grader === undefined)
      return { option: "Z", log: "Failed in Prefetch, no GPT-based answer matching under `exact_matching` policy." }
    const prompt = choiceExtractionPrompt(question, choices, prediction)
    for (let retry = 0; retry < 3; retry++) {
      const answer = yield* grader.generate(prompt, { temperature: 0, maxTokens: 1024 })
      if (answer.includes("Failed to obtain answer via API")) continue
      const option = canInfer(answer, choices)
      if (option) return { option, log: answer }
    }
    const options = "Z" in choices ? [] : [...Object.keys(choices), "Z"]
    return {
      option: options[hash(index) % Math.max(1, options.length)] ?? "Z",
      log: "Failed to predict, thus randomly generate one. ",
    }
  })

/** report_acc: Overall, then each category and l2-category (the splits VLMEvalKit's acc file lists). */
const accuracyTable = (items: ReadonlyArray<Item>, hits: ReadonlyMap<string, number>) => {
  const metrics: Record<string, number> = { Overall: 100 * mean(items.map((item) => hits.get(item.index) ?? 0)) }
  for (const column of ["category", "l2-category"]) {
    const groups = new Map<string, Array<number>>()
    for (const item of items) {
      const value = item.row[column]
      if (value === undefined || value === "") continue
      groups.set(value, [...(groups.get(value) ?? []), hits.get(item.index) ?? 0])
    }
    for (const [name, values] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)))
      metrics[name] = 100 * mean(values)
  }
  return metrics
}

/** A score whose metrics are an accuracy table by split, as VLMEvalKit's acc/score CSV writes it. */
const accuracyScore = (
  items: ReadonlyArray<Item>,
  rows: ReadonlyArray<RowScore>,
  headlineName: string,
  file: string,
): DatasetScore => {
  const metrics = accuracyTable(items, new Map(rows.map((row) => [row.index, row.score])))
  return {
    headline: metrics.Overall!,
    headlineName,
    metrics,
    rows,
    units: rows.map((row) => ({ id: row.index, score: row.score })),
    scoreFile: { name: file, header: ["split", "Overall"], rows: Object.entries(metrics).map(([k, v]) => [k, v]) },
  }
}

const scoreMcq = (items: ReadonlyArray<Item>, predictions: ReadonlyMap<string, string>, grader: Grader | undefined) =>
  Effect.gen(function* () {
    const rows = yield* Effect.forEach(
      items,
      (item) =>
        Effect.map(
          extractChoiceOf(grader, item.row.question ?? "", item.choices, predictions.get(item.index) ?? "", item.index),
          ({ option, log }): RowScore => ({
            index: item.index,
            score: option === item.answer ? 1 : 0,
            extracted: option,
            log,
          }),
        ),
      { concurrency: 8 },
    )
    return accuracyScore(items, rows, "accuracy", "acc.csv")
  })

/**
 * mcq_circular_eval: rotations of a question share `index % 1e6`; a group counts when every rotation's letter is the
 * answer. Prefetch (can_infer) first: a wrong letter fails the group at once, all right passes it; otherwise each
 * unread rotation in turn goes to the extraction (the grader), the first wrong one failing the group. Without a
 * grader a group that prefetch cannot settle fails.
 */
const scoreCircular = (
  items: ReadonlyArray<Item>,
  predictions: ReadonlyMap<string, string>,
  grader: Grader | undefined,
) =>
  Effect.gen(function* () {
    const sorted = [...items].sort((a, b) => Number(a.index) - Number(b.index))
    const main = sorted.filter((item) => Number(item.index) < 1e6)
    const groupOf = (item: Item) => sorted.filter((other) => Number(other.index) % 1e6 === Number(item.index))
    const rows = yield* Effect.forEach(
      main,
      (head) =>
        Effect.gen(function* () {
          const group = groupOf(head)
          const prefetched = group.map((item) => canInfer(predictions.get(item.index) ?? "", item.choices))
          const wrong = group.findIndex((item, i) => prefetched[i] && prefetched[i] !== item.answer)
          if (wrong >= 0)
            return {
              index: head.index,
              score: 0,
              extracted: String(prefetched[wrong]),
              log: `Failed in Prefetching Rolling ${wrong}`,
            }
          if (prefetched.every((letter, i) => letter === group[i]!.answer))
            return { index: head.index, score: 1, extracted: head.answer, log: "Succeed During Pre-fetching" }
          if (grader === undefined)
            return {
              index: head.index,
              score: 0,
              extracted: "",
              log: "Failed in Prefetch, no GPT-based answer matching under `exact_matching` policy.",
            }
          for (const [i, item] of group.entries()) {
            if (prefetched[i]) continue
            const { option } = yield* extractChoiceOf(
              grader,
              item.row.question ?? "",
              item.choices,
              predictions.get(item.index) ?? "",
              item.index,
            )
            if (option !== item.answer)
              return { index: head.index, score: 0, extracted: option, log: `Failed in Rolling ${i}` }
          }
          return { index: head.index, score: 1, extracted: head.answer, log: "Matched every rolling" }
        }),
      { concurrency: 8 },
    )
    return accuracyScore(main, rows, "circular accuracy", "acc.csv")
  })

/** Hallusion_rating's three figures over a subset: per question, per figure (all right), per question group. */
const hallusionFigures = (items: ReadonlyArray<Item>, hits: ReadonlyMap<string, number>) => {
  const allRight = (key: (fields: ReadonlyArray<string>, item: Item) => string) => {
    const groups = new Map<string, boolean>()
    for (const item of items) {
      const k = key(item.index.split("_"), item)
      groups.set(k, (groups.get(k) ?? true) && hits.get(item.index) === 1)
    }
    return 100 * mean([...groups.values()].map((ok) => (ok ? 1 : 0)))
  }
  return {
    aAcc: 100 * mean(items.map((item) => hits.get(item.index) ?? 0)),
    fAcc: allRight((f, item) => `${item.row["l2-category"]}_${f[3]}_${f[4]}`),
    qAcc: allRight((f, item) => `${item.row["l2-category"]}_${f[3]}_${f[5]}`),
  }
}

/**
 * Yes/no: YOrN_Extraction on the prediction; an Unknown goes to the grader (YOrN_auxeval: 5 tries at temperature
 * 0.5·i). HallusionBench's aAcc, fAcc and qAcc; other yes/no sets their accuracy (default_rating).
 */
const scoreYesNo = (
  items: ReadonlyArray<Item>,
  predictions: ReadonlyMap<string, string>,
  grader: Grader | undefined,
  hallusion: boolean,
) =>
  Effect.gen(function* () {
    const rows = yield* Effect.forEach(
      items,
      (item) =>
        Effect.gen(function* () {
          const prediction = predictions.get(item.index) ?? ""
          let extracted: string = yesOrNo(prediction)
          let log = "extracted"
          if (extracted === "Unknown" && grader !== undefined) {
            for (let i = 0; i < 5 && extracted === "Unknown"; i++) {
              extracted = yesOrNo(
                yield* grader.generate(yesNoPrompt(item.row.question ?? "", prediction), {
                  temperature: 0.5 * i,
                  maxTokens: 1024,
                }),
              )
              log = `grader, try ${i}`
            }
          }
          return { index: item.index, score: extracted === item.answer ? 1 : 0, extracted, log } satisfies RowScore
        }),
      { concurrency: 8 },
    )
    if (!hallusion) return accuracyScore(items, rows, "accuracy", "score.csv")
    const hits = new Map(rows.map((row) => [row.index, row.score]))
    const units = rows.map((row) => ({ id: row.index, score: row.score }))
    const splits: Array<[string, ReadonlyArray<Item>]> = [["Overall", items]]
    for (const column of ["category", "l2-category"]) {
      const values = [
        ...new Set(items.map((item) => item.row[column]).filter((v): v is string => v !== undefined && v !== "")),
      ].sort()
      for (const value of values) splits.push([value, items.filter((item) => item.row[column] === value)])
    }
    const table = splits.map(([name, subset]) => ({ name, ...hallusionFigures(subset, hits) }))
    const overall = table[0]!
    const metrics: Record<string, number> = { aAcc: overall.aAcc, fAcc: overall.fAcc, qAcc: overall.qAcc }
    return {
      // The OpenVLM leaderboard's (and the paper's) HallusionBench figure: the mean of the three.
      headline: (overall.aAcc + overall.fAcc + overall.qAcc) / 3,
      headlineName: "mean of aAcc, fAcc, qAcc",
      metrics,
      rows,
      units,
      scoreFile: {
        name: "score.csv",
        header: ["split", "aAcc", "fAcc", "qAcc"],
        rows: table.map((t) => [t.name, t.aAcc, t.fAcc, t.qAcc]),
      },
    } satisfies DatasetScore
  })

/** Python's float() on a grader's answer: a decimal literal (or inf/nan) with surrounding blanks; else undefined. */
export const pythonFloat = (text: string): number | undefined => {
  const t = text.trim()
  if (/^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/.test(t))
    return Number(t.replaceAll("_", ""))
  if (/^[+-]?(?:inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity
  if (/^[+-]?nan$/i.test(t)) return Number.NaN
  return undefined
}

/** Python's int() on a string: an optionally signed decimal integer with surrounding blanks; else undefined. */
export const pythonInt = (text: string): number | undefined => {
  const t = text.trim()
  return /^[+-]?\d(?:_?\d)*$/.test(t) ? Number(t.replaceAll("_", "")) : undefined
}

const MMVET_CAPABILITIES = ["rec", "ocr", "know", "gen", "spat", "math"]

/**
 * MMVet: every answer graded 0–1 by the grader (MMVet_auxeval: 5 tries at temperature 0.5·i, at most 3 tokens, the
 * answer parsed as a float in [0, 1], else 0.0). MMVet_acc: the mean per capability (a category holding "rec", …),
 * per category (commas as "_") and Overall.
 */
const scoreMmvet = (items: ReadonlyArray<Item>, predictions: ReadonlyMap<string, string>, grader: Grader) =>
  Effect.gen(function* () {
    const rows = yield* Effect.forEach(
      items,
      (item) =>
        Effect.gen(function* () {
          const prompt = mmvetPrompt(item.row.question ?? "", item.answer, predictions.get(item.index) ?? "")
          let log = ""
          for (let i = 0; i < 5; i++) {
            const output = yield* grader.generate(prompt, { temperature: 0.5 * i, maxTokens: 3 })
            const score = pythonFloat(output)
            if (score === undefined) log += `Try ${i}: output is ${output}, failed to parse.\n`
            else if (score < 0 || score > 1) log += `Try ${i}: output is ${output}, invalid score: ${score}.\n`
            else return { index: item.index, score, extracted: output, log: `${log}Succeed` } satisfies RowScore
          }
          return { index: item.index, score: 0, extracted: "", log: `${log}All 5 retries failed.\n` } satisfies RowScore
        }),
      { concurrency: 8 },
    )
    const scoreOf = new Map(rows.map((row) => [row.index, row.score]))
    const total = new Map<string, [number, number]>()
    const add = (key: string, grade: number) => {
      const [sum, n] = total.get(key) ?? [0, 0]
      total.set(key, [sum + grade, n + 1])
    }
    const fine: Array<string> = []
    for (const item of items) {
      const grade = scoreOf.get(item.index) ?? 0
      for (const capability of MMVET_CAPABILITIES) if (item.category.includes(capability)) add(capability, grade)
      const category = item.category.replaceAll(",", "_")
      if (!fine.includes(category)) fine.push(category)
      add(`category:${category}`, grade)
      add("Overall", grade)
    }
    const acc = (key: string) => {
      const [sum, n] = total.get(key) ?? [0, 0]
      return n === 0 ? Number.NaN : (100 * sum) / n
    }
    const metrics: Record<string, number> = { Overall: acc("Overall") }
    for (const capability of MMVET_CAPABILITIES) metrics[capability] = acc(capability)
    return {
      headline: metrics.Overall!,
      headlineName: "GPT score",
      metrics,
      rows,
      units: rows.map((row) => ({ id: row.index, score: row.score })),
      scoreFile: {
        name: "score.csv",
        header: ["Category", "tot", "acc"],
        rows: [
          ...[...MMVET_CAPABILITIES, "Overall"].map((k) => [k, total.get(k)?.[1] ?? 0, acc(k)]),
          ...fine.map((k) => [k, total.get(`category:${k}`)?.[1] ?? 0, acc(`category:${k}`)]),
        ],
      },
    } satisfies DatasetScore
  })

/** Python truthiness of post_check's result: False, None, 0 and "" are false. */
const truthy = (value: string | number | false | undefined) =>
  value !== false && value !== undefined && value !== 0 && value !== ""

/**
 * post_check: a multi_choice answer is the letter can_infer reads (against answer_option); an integer or float answer
 * is int()/float() of the response (against the answer); any other answer type compares str(None) at this commit
 * (`res = str(res)` with res still None), so it never matches. prefetch=True returns the value read (Python-falsy
 * 0 included) or false.
 */
export const postCheck = (item: Item, response: string, prefetch: boolean): string | number | false => {
  const row = item.row
  let res: string | number | false | undefined
  let answer: string | number | undefined = item.answer
  if (row.question_type === "multi_choice") {
    answer = row.answer_option
    const list = pythonStringList(row.choices ?? "") ?? []
    res = canInfer(response, Object.fromEntries(list.map((text, i) => [String.fromCharCode(65 + i), text])))
    if (prefetch) return res
  } else if (row.answer_type === "integer") {
    res = pythonInt(response)
    answer = res === undefined ? answer : pythonInt(item.answer)
  } else if (row.answer_type === "float") {
    res = pythonFloat(response)
    answer = res === undefined ? answer : pythonFloat(item.answer)
  } else {
    res = "None"
    answer = item.answer
  }
  if (res !== undefined && res === answer) return prefetch ? res : 1
  return false
}

/**
 * MathVista: post_check on the prediction first ("Prefetch succeed"); else the grader extracts the answer
 * (MathVista_auxeval: 5 tries at temperature 0.5·i, at most 128 tokens, FAIL_MSG retried). MathVista_acc scores
 * post_check on what was extracted: Overall, per task and per skill.
 */
const scoreMathvista = (items: ReadonlyArray<Item>, predictions: ReadonlyMap<string, string>, grader: Grader) =>
  Effect.gen(function* () {
    const extracted = yield* Effect.forEach(
      items,
      (item) =>
        Effect.gen(function* () {
          const prediction = predictions.get(item.index) ?? ""
          const prefetched = postCheck(item, prediction, true)
          if (truthy(prefetched)) return { res: String(prefetched), log: "Prefetch succeed" }
          let log = ""
          const prompt = mathvistaPrompt(item.row.question ?? "", prediction)
          for (let i = 0; i < 5; i++) {
            const res = yield* grader.generate(prompt, { temperature: 0.5 * i, maxTokens: 128 })
            if (res.includes(FAIL_MSG)) log += `Try ${i}: output is ${prediction}, failed to parse.\n`
            else return { res, log: `${log}Succeed` }
          }
          return { res: "", log: `${log}All 5 retries failed.\n` }
        }),
      { concurrency: 8 },
    )
    const rows = items.map((item, i): RowScore => {
      const { res, log } = extracted[i]!
      return { index: item.index, score: postCheck(item, res, false) === 1 ? 1 : 0, extracted: res, log }
    })
    const tot = new Map<string, number>()
    const hit = new Map<string, number>()
    const fetched = new Map<string, number>()
    const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)
    for (const [i, item] of items.entries()) {
      const skills = pythonStringList(item.row.skills ?? "") ?? [item.row.skills ?? ""]
      const keys = ["Overall", ...skills, item.row.task ?? ""]
      for (const key of keys) {
        bump(tot, key)
        if (rows[i]!.log === "Prefetch succeed") bump(fetched, key)
        if (rows[i]!.score === 1) bump(hit, key)
      }
    }
    const metrics: Record<string, number> = {}
    for (const [key, n] of tot) metrics[key] = (100 * (hit.get(key) ?? 0)) / n
    return {
      headline: metrics.Overall!,
      headlineName: "accuracy",
      metrics,
      rows,
      units: rows.map((row) => ({ id: row.index, score: row.score })),
      scoreFile: {
        name: "score.csv",
        header: ["Task&Skill", "tot", "prefetch", "hit", "prefetch_rate", "acc"],
        rows: [...tot.entries()].map(([key, n]) => [
          key,
          n,
          fetched.get(key) ?? 0,
          hit.get(key) ?? 0,
          (100 * (fetched.get(key) ?? 0)) / n,
          (100 * (hit.get(key) ?? 0)) / n,
        ]),
      },
    } satisfies DatasetScore
  })

/** The layouts that cannot be scored without an LLM (VLMEvalKit asserts a working API for them). */
export const needsGrader = (layout: Layout) => layout === "mmvet" || layout === "mathvista"

/** One configuration's predictions on a benchmark, scored as VLMEvalKit scores that layout. */
export const scoreDataset = (
  layout: Layout,
  dataset: string,
  items: ReadonlyArray<Item>,
  predictions: ReadonlyMap<string, string>,
  grader: Grader | undefined,
): Effect.Effect<DatasetScore> => {
  switch (layout) {
    case "mcq":
      return scoreMcq(items, predictions, grader)
    case "mmbench":
      return scoreCircular(items, predictions, grader)
    case "yorn":
      return scoreYesNo(items, predictions, grader, /hallusion/i.test(dataset))
    case "mmvet":
    case "mathvista":
      if (grader === undefined) return Effect.die(new Error(`${dataset}: the ${layout} layout needs --grader`))
      return layout === "mmvet" ? scoreMmvet(items, predictions, grader) : scoreMathvista(items, predictions, grader)
  }
}
