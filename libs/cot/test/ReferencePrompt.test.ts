import { assert, describe, it } from "@effect/vitest"
import { conclusionHint, correctnessPrompt, judgePrompt, referenceView } from "../src/index.ts"

// The byte-for-byte comparison with the reference's own judge() is libs/judge/test/ReferenceReproduction.test.ts;
// these pin the differences between the two wordings.
describe("the REFERENCE wording", () => {
  it("spells the labels and lays out the instructions as the reference does", () => {
    const input = { question: "Q?", hint: "a caption", first: "r1", second: "r2" }
    const reference = judgePrompt("REASONING", input, "REFERENCE")
    assert.include(reference, "\nRepsonse 1: r1\nRepsonse 2: r2\n\n")
    assert.include(judgePrompt("REASONING", input), "\nResponse 1: r1\nResponse 2: r2\n\n")
    // No recall sentence (ALL, SENTENCE): the reference still writes the space before "Please".
    assert.include(judgePrompt("ALL", input, "REFERENCE"), "Repsonse 2: r2\n\n Please strictly")
    assert.include(judgePrompt("ALL", input), "Response 2: r2\n\nPlease strictly")
  })

  it("leaves out a response it cannot read and numbers the other 1, in both wordings", () => {
    const input = { question: "Q?", first: undefined, second: "r2" }
    assert.include(judgePrompt("CAPTION", input, "REFERENCE"), "\nRepsonse 1: r2\n\n")
    assert.notInclude(judgePrompt("CAPTION", input, "REFERENCE"), "Repsonse 2")
    assert.include(judgePrompt("CAPTION", input), "\nResponse 1: r2\n\n")
  })

  it("keeps the pre-check's source indentation, its spelling, and Python's None for a missing hint", () => {
    const reference = correctnessPrompt({ reasoning: "2 + 2 = 4" }, "REFERENCE")
    assert.include(reference, "\n        You should assume")
    assert.include(reference, "background information.  \n")
    assert.include(reference, "invovles")
    assert.include(reference, "\n\nGiven Information: None\n\nReasoning Process: 2 + 2 = 4")
    const corrected = correctnessPrompt({ reasoning: "2 + 2 = 4" })
    assert.include(corrected, "\nYou should assume")
    assert.include(corrected, "involves")
    assert.include(corrected, "\n\nGiven Information: \n\nReasoning Process: 2 + 2 = 4")
  })

  it("concatenates the conclusion hint (the corrected wording keeps the parts apart)", () => {
    assert.strictEqual(conclusionHint("cap.", "reason.", "REFERENCE"), "cap.reason.")
    assert.strictEqual(conclusionHint("cap.", "reason."), "cap.\n\nreason.")
  })
})

describe("referenceView: what the reference shows the judge of a candidate", () => {
  const S = "<SUMMARY>plan</SUMMARY>"
  const C = "\n\n<CAPTION> three apples </CAPTION>"
  const R = "\n\n<REASONING>so B</REASONING>"

  it("a stage: its untrimmed inner text, readable only when every earlier stage is complete", () => {
    assert.deepStrictEqual(referenceView("CAPTION", S + C), { judged: " three apples ", hint: undefined })
    assert.deepStrictEqual(referenceView("CAPTION", `<SUMMARY>pl${C}`), { judged: undefined, hint: undefined })
    assert.deepStrictEqual(referenceView("REASONING", S + C + R), { judged: "so B", hint: " three apples " })
    assert.deepStrictEqual(referenceView("CONCLUSION", `${S + C + R}\n\n<CONCLUSION>B</CONCLUSION>`), {
      judged: "B",
      hint: " three apples so B",
    })
    assert.deepStrictEqual(referenceView("CONCLUSION", `${S + C + R}\n\n<CONCLUSION>B`), {
      judged: undefined,
      hint: undefined,
    })
  })

  it("each tag searched on its own, as re.search does (a stage nested in another is still found)", () => {
    assert.strictEqual(referenceView("CAPTION", "<SUMMARY>a <CAPTION>b</CAPTION> c</SUMMARY>").judged, "b")
  })

  it("a sentence: split('.')[-2], and the pieces before it joined by spaces as the hint", () => {
    assert.deepStrictEqual(referenceView("SENTENCE", "One. Two. Three."), { judged: " Three", hint: "One  Two" })
    assert.deepStrictEqual(referenceView("SENTENCE", "One."), { judged: "One", hint: undefined })
    // Ending the answer: the judge sees the last sentence before it, not the new text.
    assert.deepStrictEqual(referenceView("SENTENCE", "One. Two.</CONCLUSION>"), { judged: " Two", hint: "One" })
    // No period at all: the reference crashes (IndexError); left out here.
    assert.deepStrictEqual(referenceView("SENTENCE", "no period"), { judged: undefined, hint: undefined })
  })

  it("a whole answer: as it is, even without its conclusion", () => {
    assert.deepStrictEqual(referenceView("ALL", "<SUMMARY>cut"), { judged: "<SUMMARY>cut", hint: undefined })
  })
})
