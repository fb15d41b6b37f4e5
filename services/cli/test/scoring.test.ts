// VLMEvalKit's rules applied case by case (open-compass/VLMEvalKit@7de2dcbc): each expected score below is worked
// out by hand from the rule it names, on predictions written for the case.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { choicesOf, type Item, type Layout, mcqPrompt, pythonStringList } from "../src/eval/Dataset.ts"
import type { Grader } from "../src/eval/Grader.ts"
import { canInfer, canInferOption, processPunctuation, yesOrNo } from "../src/eval/Matching.ts"
import { comparePaired, mcnemarExact } from "../src/eval/Paired.ts"
import { postCheck, scoreDataset } from "../src/eval/Scoring.ts"
import { differences } from "../src/eval/Settings.ts"

/** A grader whose answers the case scripts: the prompts it was asked are kept. */
const scripted = (answer: (prompt: string, call: number) => string) => {
  const asked: Array<{ prompt: string; temperature: number; maxTokens: number }> = []
  const grader: Grader = {
    url: "http://scripted",
    model: "scripted",
    generate: (prompt, options) =>
      Effect.sync(() => {
        asked.push({ prompt, ...options })
        return answer(prompt, asked.filter((a) => a.prompt === prompt).length - 1)
      }),
    failures: () => 0,
  }
  return { grader, asked }
}

const item = (layout: Layout, row: Record<string, string>): Item => {
  const choices = layout === "mcq" || layout === "mmbench" ? choicesOf(row) : {}
  return {
    index: row.index!,
    row,
    prompt: layout === "mcq" || layout === "mmbench" ? mcqPrompt(row.question!, undefined, choices) : row.question!,
    image: undefined,
    answer: row.answer!,
    category: row.category ?? "none",
    choices,
  }
}

const score = (
  layout: Layout,
  dataset: string,
  items: ReadonlyArray<Item>,
  predictions: Record<string, string>,
  grader?: Grader,
) => scoreDataset(layout, dataset, items, new Map(Object.entries(predictions)), grader)

describe("VLMEvalKit's matching (matching_util.py, misc.py)", () => {
  const options = { A: "teddy bear", B: "rabbit", C: "cat", D: "dog" }
  it("can_infer_option: one standalone letter, a refusal is Z, a lone 'A' article counts as the letter", () => {
    assert.strictEqual(canInferOption("The answer is (B).", options), "B")
    assert.strictEqual(canInferOption("B or C", options), false)
    assert.strictEqual(canInferOption("A cat sits on the mat", options), "A")
    assert.strictEqual(canInferOption("Cannot determine the answer", options), "Z")
    assert.strictEqual(canInferOption("Failed to obtain answer via API.", options), false)
  })
  it("can_infer_text: exactly one option text, case-insensitive", () => {
    assert.strictEqual(canInfer("it is a Teddy Bear", options), "A")
    assert.strictEqual(canInfer("the rabbit chases the cat", options), false)
  })
  it("process_punctuation and YOrN_Extraction", () => {
    assert.strictEqual(processPunctuation("yes, it is."), "yes it is")
    assert.strictEqual(yesOrNo("Yes, the line goes up."), "Yes")
    assert.strictEqual(yesOrNo("No. It does not."), "No")
    assert.strictEqual(yesOrNo("Yes and no"), "Unknown")
    assert.strictEqual(yesOrNo("Perhaps"), "Unknown")
  })
  it("reads MathVista's choices as Python writes them", () => {
    assert.deepStrictEqual(pythonStringList("['3/11', \"8/11\", 'it\\'s']"), ["3/11", "8/11", "it's"])
    assert.strictEqual(pythonStringList("3/11"), undefined)
  })
})

describe("multiple choice (mcq_vanilla_eval)", () => {
  const rows = [
    {
      index: "1",
      question: "What is it",
      A: "teddy bear",
      B: "rabbit",
      C: "cat",
      D: "dog",
      answer: "B",
      category: "x",
    },
    { index: "2", question: "What is it", A: "dog", B: "cat", C: "bird", D: "fish", answer: "B", category: "x" },
    {
      index: "3",
      question: "What is it",
      A: "teddy bear",
      B: "rabbit",
      C: "cat",
      D: "dog",
      answer: "A",
      category: "y",
    },
    {
      index: "4",
      question: "What is it",
      A: "teddy bear",
      B: "rabbit",
      C: "cat",
      D: "dog",
      answer: "B",
      category: "y",
    },
    {
      index: "5",
      question: "What is it",
      A: "teddy bear",
      B: "rabbit",
      C: "cat",
      D: "dog",
      answer: "C",
      category: "y",
    },
  ].map((row) => item("mcq", row))
  const predictions = {
    "1": "The answer is B.", // can_infer_option: B, right
    "2": "A cat.", // the article "A" is the one standalone letter: A, wrong (VLMEvalKit's own quirk)
    "3": "It is a teddy bear", // no letter; can_infer_text: A, right
    "4": "the rabbit or the cat", // two option texts: unread, goes to the grader
    "5": "unclear", // unread
  }
  it.effect("without a grader (exact_matching) an unread answer is Z: 2 of 5 right", () =>
    Effect.gen(function* () {
      const result = yield* score("mcq", "MMStar", rows, predictions)
      assert.deepStrictEqual(
        result.rows.map((r) => r.extracted),
        ["B", "A", "A", "Z", "Z"],
      )
      assert.closeTo(result.headline, 40, 1e-9)
      assert.closeTo(result.metrics.x!, 50, 1e-9)
      assert.closeTo(result.metrics.y!, (100 * 1) / 3, 1e-9)
    }),
  )
  it.effect("with a grader: its letter for row 4; three failed tries then the fixed fallback for row 5", () =>
    Effect.gen(function* () {
      const { grader, asked } = scripted((prompt) =>
        prompt.includes("Answer: the rabbit or the cat\n") ? "B" : "I cannot tell",
      )
      const result = yield* score("mcq", "MMStar", rows, predictions, grader)
      assert.strictEqual(result.rows[3]!.extracted, "B")
      assert.strictEqual(result.rows[4]!.log, "Failed to predict, thus randomly generate one. ")
      assert.include(["A", "B", "D", "Z"].concat("C"), result.rows[4]!.extracted)
      // Row 4 once, row 5 three times (retry = 3), at temperature 0.
      assert.strictEqual(asked.length, 4)
      assert.isTrue(asked.every((a) => a.temperature === 0))
      assert.include(
        asked[0]!.prompt,
        "Example 3: \nQuestion: What is it?\nOptions: There are several options: \nA. teddy bear\nB. rabbit\nC. cat\nD. dog\n\nAnswer: ",
      )
      const expected = 100 * ((3 + (result.rows[4]!.extracted === "C" ? 1 : 0)) / 5)
      assert.closeTo(result.headline, expected, 1e-9)
    }),
  )
})

describe("MMBench circular evaluation (mcq_circular_eval)", () => {
  // Question 1 and its three rotations (index + k·1e6): the answer letter moves with the options.
  const rotations = (base: number, texts: ReadonlyArray<string>, right: string, category: string) =>
    [0, 1, 2, 3].map((k) => {
      const rotated = [...texts.slice(k), ...texts.slice(0, k)]
      return item("mmbench", {
        index: String(base + k * 1_000_000),
        question: "Which animal",
        A: rotated[0]!,
        B: rotated[1]!,
        C: rotated[2]!,
        D: rotated[3]!,
        answer: "ABCD"[rotated.indexOf(right)]!,
        category,
      })
    })
  const animals = ["cat", "dog", "owl", "eel"]
  const items = [
    ...rotations(1, animals, "owl", "p"),
    ...rotations(2, animals, "dog", "p"),
    ...rotations(3, animals, "eel", "q"),
  ]
  const letterOf = (index: number) => items.find((i) => i.index === String(index))!.answer
  const predictions: Record<string, string> = {}
  // Group 1: every rotation answered right by letter.
  for (const k of [0, 1, 2, 3]) predictions[String(1 + k * 1e6)] = `The answer is ${letterOf(1 + k * 1e6)}.`
  // Group 2: three right, rotation 2 names a wrong letter.
  for (const k of [0, 1, 3]) predictions[String(2 + k * 1e6)] = letterOf(2 + k * 1e6)
  predictions[String(2 + 2e6)] = letterOf(2 + 2e6) === "A" ? "B" : "A"
  // Group 3: three right, rotation 3 unreadable by can_infer ("between the eel and the owl").
  for (const k of [0, 1, 2]) predictions[String(3 + k * 1e6)] = letterOf(3 + k * 1e6)
  predictions[String(3 + 3e6)] = "between the eel and the owl, the eel"

  it.effect("a group counts only when every rotation is right: 1 of 3 by prefetch alone, 2 of 3 with the grader", () =>
    Effect.gen(function* () {
      const exact = yield* score("mmbench", "MMBench_DEV_EN", items, predictions)
      assert.deepStrictEqual(
        exact.rows.map((r) => [r.index, r.score]),
        [
          ["1", 1],
          ["2", 0],
          ["3", 0],
        ],
      )
      assert.closeTo(exact.headline, 100 / 3, 1e-9)
      assert.strictEqual(exact.units.length, 3, "paired comparisons pair groups, not rotations")
      const { grader, asked } = scripted(() => "eel")
      const graded = yield* score("mmbench", "MMBench_DEV_EN", items, predictions, grader)
      assert.deepStrictEqual(
        graded.rows.map((r) => r.score),
        [1, 0, 1],
      )
      assert.closeTo(graded.headline, 200 / 3, 1e-9)
      assert.closeTo(graded.metrics.p!, 50, 1e-9)
      assert.closeTo(graded.metrics.q!, 100, 1e-9)
      assert.strictEqual(asked.length, 1, "only the unread rotation of the unsettled group is asked")
    }),
  )
})

describe("HallusionBench (yes/no; Hallusion_rating)", () => {
  // index: CATEGORY_SUBCATEGORY_x_SET_FIGURE_QUESTION.
  const rows = [
    {
      index: "VS_chart_0_1_0_0",
      question: "Is the line rising",
      answer: "Yes",
      category: "VS",
      "l2-category": "chart",
    },
    { index: "VS_chart_0_1_1_0", question: "Is the line rising", answer: "No", category: "VS", "l2-category": "chart" },
    { index: "VS_chart_0_1_0_1", question: "Is it red", answer: "No", category: "VS", "l2-category": "chart" },
    { index: "VS_chart_0_1_1_1", question: "Is it red", answer: "No", category: "VS", "l2-category": "chart" },
    { index: "VD_math_0_2_0_0", question: "Is x 3", answer: "Yes", category: "VD", "l2-category": "math" },
  ].map((row) => item("yorn", row))
  const predictions = {
    VS_chart_0_1_0_0: "Yes, it rises.",
    VS_chart_0_1_1_0: "Yes.",
    VS_chart_0_1_0_1: "No.",
    VS_chart_0_1_1_1: "No, it is blue.",
    VD_math_0_2_0_0: "Probably, given the figure.",
  }
  it.effect("aAcc per question, fAcc per figure, qAcc per question group; Unknown goes to the grader", () =>
    Effect.gen(function* () {
      const { grader, asked } = scripted((_, call) => (call === 0 ? "Maybe" : "Yes"))
      const result = yield* score("yorn", "HallusionBench", rows, predictions, grader)
      assert.deepStrictEqual(
        result.rows.map((r) => r.score),
        [1, 0, 1, 1, 1],
      )
      // Only the unknown one is asked, again until it says Yes or No (temperature 0, then 0.5).
      assert.deepStrictEqual(
        asked.map((a) => a.temperature),
        [0, 0.5],
      )
      assert.closeTo(result.metrics.aAcc!, 80, 1e-9)
      // Figures chart/1/0 (both right), chart/1/1 (one wrong), math/2/0 (right): 2 of 3.
      assert.closeTo(result.metrics.fAcc!, 200 / 3, 1e-9)
      // Question groups chart/1/q0 (one wrong), chart/1/q1 (both right), math/2/q0 (right): 2 of 3.
      assert.closeTo(result.metrics.qAcc!, 200 / 3, 1e-9)
      assert.closeTo(result.headline, (80 + 400 / 3) / 3, 1e-9)
      const chart = result.scoreFile.rows.find((r) => r[0] === "chart")!
      assert.deepStrictEqual(
        [chart[1], chart[2], chart[3]].map(Number).map((x) => Math.round(x * 100) / 100),
        [75, 50, 50],
      )
    }),
  )
})

describe("MMVet (graded 0–1 by the grader; MMVet_acc)", () => {
  const rows = [
    { index: "1", question: "What is written", answer: "ice<AND>green", category: "rec,ocr" },
    { index: "2", question: "What animal", answer: "cat", category: "rec" },
    { index: "3", question: "Compute x", answer: "5", category: "math" },
  ].map((row) => item("mmvet", row))
  it.effect("a parsed score in [0, 1] stands; unparsable answers are retried; five bad ones score 0.0", () =>
    Effect.gen(function* () {
      const { grader, asked } = scripted((prompt, call) =>
        prompt.endsWith("What is written | ice <AND> green | it says ice | ")
          ? "0.5"
          : prompt.endsWith("What animal | cat | a cat | ")
            ? call === 0
              ? "abc"
              : "1.0"
            : "1.5",
      )
      const result = yield* score("mmvet", "MMVet", rows, { "1": "it says ice", "2": "a cat", "3": "7" }, grader)
      assert.deepStrictEqual(
        result.rows.map((r) => r.score),
        [0.5, 1, 0],
      )
      assert.closeTo(result.headline, 50, 1e-9)
      assert.closeTo(result.metrics.rec!, 75, 1e-9)
      assert.closeTo(result.metrics.ocr!, 50, 1e-9)
      assert.closeTo(result.metrics.math!, 0, 1e-9)
      assert.isTrue(asked.every((a) => a.maxTokens === 3))
      assert.deepStrictEqual(
        asked.filter((a) => a.prompt.includes("Compute x")).map((a) => a.temperature),
        [0, 0.5, 1, 1.5, 2],
      )
      assert.strictEqual(
        comparePaired({ name: "a", units: result.units }, { name: "b", units: result.units }).mcnemarP,
        null,
      )
    }),
  )
})

describe("MathVista (post_check, MathVista_auxeval, MathVista_acc)", () => {
  const rows = [
    {
      index: "1",
      question: "What fraction",
      answer: "8/11",
      answer_option: "B",
      choices: "['3/11', '8/11', '6/11', '3/5']",
      question_type: "multi_choice",
      answer_type: "text",
      task: "FQA",
      skills: "['arithmetic reasoning']",
    },
    {
      index: "2",
      question: "Which number",
      answer: "14",
      question_type: "free_form",
      answer_type: "integer",
      task: "MWP",
      skills: "['algebraic reasoning']",
    },
    {
      index: "3",
      question: "How many left",
      answer: "0",
      question_type: "free_form",
      answer_type: "integer",
      task: "MWP",
      skills: "['arithmetic reasoning']",
    },
    {
      index: "4",
      question: "How much money",
      answer: "1.45",
      question_type: "free_form",
      answer_type: "float",
      task: "MWP",
      skills: "['arithmetic reasoning']",
    },
    {
      index: "5",
      question: "Which animal",
      answer: "cat",
      question_type: "free_form",
      answer_type: "text",
      task: "VQA",
      skills: "['scientific reasoning']",
    },
  ].map((row) => item("mathvista", row))
  const predictions = { "1": "The answer is (B) 8/11.", "2": "14", "3": "0", "4": "Luca needs $1.45.", "5": "cat" }
  it.effect(
    "prefetch where post_check reads it; the grader elsewhere; a 0 answer is Python-falsy; text answers never match",
    () =>
      Effect.gen(function* () {
        const { grader, asked } = scripted((prompt) =>
          prompt.includes("Model respone: 0Extracted answer:")
            ? "0"
            : prompt.includes("Model respone: Luca")
              ? "1.45"
              : "cat",
        )
        const result = yield* score("mathvista", "MathVista_MINI", rows, predictions, grader)
        assert.deepStrictEqual(
          result.rows.map((r) => r.log),
          ["Prefetch succeed", "Prefetch succeed", "Succeed", "Succeed", "Succeed"],
        )
        assert.deepStrictEqual(
          result.rows.map((r) => r.score),
          [1, 1, 1, 1, 0],
        )
        assert.closeTo(result.headline, 80, 1e-9)
        assert.closeTo(result.metrics.MWP!, 100, 1e-9)
        assert.closeTo(result.metrics["arithmetic reasoning"]!, 100, 1e-9)
        assert.closeTo(result.metrics.VQA!, 0, 1e-9)
        assert.strictEqual(asked.length, 3)
        assert.isTrue(asked.every((a) => a.maxTokens === 128))
        assert.isTrue(asked[0]!.prompt.includes("\nWhich number") === false)
        assert.strictEqual(postCheck(rows[1]!, "14.0", true), false, "int('14.0') raises: no prefetch")
      }),
  )
})

describe("paired comparisons and resume settings", () => {
  it("exact McNemar on the discordant pairs; a seeded paired bootstrap interval", () => {
    assert.closeTo(mcnemarExact(0, 6), 2 * 0.5 ** 6, 1e-12)
    assert.strictEqual(mcnemarExact(3, 3), 1)
    const a = Array.from({ length: 40 }, (_, i) => ({ id: String(i), score: i < 30 ? 1 : 0 }))
    const b = Array.from({ length: 40 }, (_, i) => ({ id: String(i), score: i < 20 ? 1 : 0 }))
    const compared = comparePaired({ name: "a", units: a }, { name: "b", units: b })
    assert.strictEqual(compared.onlyA, 10)
    assert.strictEqual(compared.onlyB, 0)
    assert.closeTo(compared.difference, 25, 1e-9)
    assert.isAbove(compared.low, 0)
    assert.isBelow(compared.high, 50)
    assert.closeTo(compared.mcnemarP!, 2 * 0.5 ** 10, 1e-12)
    assert.deepStrictEqual(
      comparePaired({ name: "a", units: a }, { name: "b", units: b }),
      compared,
      "the same every run",
    )
  })
  it("names each setting that differs", () => {
    assert.deepStrictEqual(
      differences({ seed: 99, preset: "default", x: { y: 1 } }, { seed: 1, preset: "default", x: { y: 2 } }),
      ["seed: 1 in the results, 99 now", "x.y: 2 in the results, 1 now"],
    )
  })
})
