import { assert, describe, it } from "@effect/vitest"
import {
  CHOICE_OUTPUT_FORMAT,
  correctnessMessages,
  correctnessPrompt,
  JUDGE_OUTPUT_FORMAT,
  judgeCriterion,
  judgeMessages,
  judgePrompt,
  parseCorrectness,
  parseVerdict,
} from "../src/index.ts"

describe("judge prompts", () => {
  it("lays out criterion, question, hint, both responses, recall and output format", () => {
    const text = judgePrompt("REASONING", { question: "Q?", hint: "a caption", first: "r1", second: "r2" })
    assert.isTrue(text.startsWith(judgeCriterion("REASONING")))
    assert.include(text, "\n\nQuestion: Q?\n\nHint about the Question: a caption\nResponse 1: r1\nResponse 2: r2\n\n")
    assert.include(
      text,
      "determine which response demonstrates stronger reasoning and provide a clear conclusion. Please",
    )
    assert.isTrue(text.endsWith(`\n\n${JUDGE_OUTPUT_FORMAT}`))
    assert.strictEqual(JUDGE_OUTPUT_FORMAT, 'Output format: "Since [reason], I choose response [1/2]."')
    assert.notInclude(text, "Repsonse")
  })

  it("omits the hint line without a hint and has no recall line for ALL and SENTENCE", () => {
    const text = judgePrompt("ALL", { question: "Q?", first: "a", second: "b" })
    assert.notInclude(text, "Hint about the Question")
    assert.include(text, "Response 2: b\n\nPlease strictly follow")
    assert.include(judgePrompt("SENTENCE", { question: "Q", first: "a", second: "b" }), "better next sentence")
  })

  it("has a distinct criterion per stage", () => {
    const kinds = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION", "ALL", "SENTENCE"] as const
    assert.strictEqual(new Set(kinds.map(judgeCriterion)).size, kinds.length)
    assert.include(judgeCriterion("CONCLUSION"), "never refuse to answer")
    assert.include(judgeCriterion("CAPTION"), "information in the image")
  })

  it("shows the judge the image first", () => {
    const [message] = judgeMessages("CAPTION", { question: "Q", first: "a", second: "b", imageUrl: "http://i" })
    assert.strictEqual(message?.role, "user")
    const content = message?.role === "user" ? message.content : []
    assert.strictEqual(content[0]?.type, "image_url")
    assert.strictEqual(content[1]?.type, "text")
  })
})

describe("verdict parsing", () => {
  it("follows the reference: response 1 named → first, anything else → second", () => {
    assert.deepStrictEqual(parseVerdict("Since it is clearer, I choose response 1."), { winner: 0, explicit: true })
    assert.deepStrictEqual(parseVerdict("Since it is clearer, I choose response 2."), { winner: 1, explicit: true })
    assert.deepStrictEqual(parseVerdict("Both are fine."), { winner: 1, explicit: false })
  })
})

describe("correctness pre-check", () => {
  it("gives the caption as information and the reasoning to check, text only", () => {
    const text = correctnessPrompt({ hint: "two apples", reasoning: "2+2=5" })
    assert.isTrue(text.endsWith("Given Information: two apples\n\nReasoning Process: 2+2=5"))
    const [message] = correctnessMessages({ hint: "h", reasoning: "r" })
    const content = message?.role === "user" ? message.content : []
    assert.deepStrictEqual(
      content.map((part) => part.type),
      ["text"],
    )
  })

  it("treats any 'incorrect' as incorrect", () => {
    assert.isFalse(parseCorrectness("incorrect").correct)
    assert.isFalse(parseCorrectness("The reasoning is incorrect.").correct)
    assert.isTrue(parseCorrectness("correct").correct)
  })
})

describe("CHOICE verdict prompts", () => {
  const input = { question: "Q?", hint: "cap", first: "one", second: "two" }
  it("ask for the label only, in both wordings, and change nothing else", () => {
    for (const wording of ["CORRECTED", "REFERENCE"] as const) {
      const free = judgePrompt("REASONING", input, wording)
      const choice = judgePrompt("REASONING", input, wording, "CHOICE")
      assert.include(choice, CHOICE_OUTPUT_FORMAT)
      assert.notInclude(choice, JUDGE_OUTPUT_FORMAT)
      assert.strictEqual(choice.replace(CHOICE_OUTPUT_FORMAT, JUDGE_OUTPUT_FORMAT), free)
    }
  })
})
