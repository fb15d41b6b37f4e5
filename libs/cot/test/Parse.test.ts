import { assert, describe, it } from "@effect/vitest"
import { closeTag, conclusionOf, extractStage, openTag, parseStages, STAGES } from "../src/index.ts"

const answer =
  "<SUMMARY>Plan it.</SUMMARY>\n\n<CAPTION>A red\nball.</CAPTION>\n\n<REASONING>Red is warm.</REASONING>\n\n<CONCLUSION> B </CONCLUSION>"

describe("stage parsing", () => {
  it("finds every complete stage in order with its inner text", () => {
    assert.deepStrictEqual(parseStages(answer), [
      { stage: "SUMMARY", text: "Plan it." },
      { stage: "CAPTION", text: "A red\nball." },
      { stage: "REASONING", text: "Red is warm." },
      { stage: "CONCLUSION", text: " B " },
    ])
  })

  it("ignores a stage without its closing tag and mismatched tags", () => {
    assert.deepStrictEqual(parseStages("<SUMMARY>cut off"), [])
    assert.deepStrictEqual(parseStages("<SUMMARY>x</CAPTION>"), [])
  })

  it("extracts one stage, undefined when absent", () => {
    assert.strictEqual(extractStage(answer, "CAPTION"), "A red\nball.")
    assert.isUndefined(extractStage("<SUMMARY>x</SUMMARY>", "CAPTION"))
  })

  it("takes the trimmed conclusion, also when its closing tag is missing", () => {
    assert.strictEqual(conclusionOf(answer), "B")
    assert.strictEqual(conclusionOf("<CONCLUSION>The answer is C"), "The answer is C")
    assert.isUndefined(conclusionOf("<SUMMARY>x</SUMMARY>"))
  })

  it("builds the plain-text tags of the four stages", () => {
    assert.deepStrictEqual(
      STAGES.map((stage) => [openTag(stage), closeTag(stage)]),
      [
        ["<SUMMARY>", "</SUMMARY>"],
        ["<CAPTION>", "</CAPTION>"],
        ["<REASONING>", "</REASONING>"],
        ["<CONCLUSION>", "</CONCLUSION>"],
      ],
    )
  })
})
