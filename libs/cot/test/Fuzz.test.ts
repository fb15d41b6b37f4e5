import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  conclusionOf,
  extractChoice,
  extractStage,
  parseCorrectness,
  parseStages,
  parseVerdict,
  STAGES,
} from "../src/index.ts"

/** Text made of stage tags, verdict phrases and noise, so the parsers meet the shapes they look for. */
const modelText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...STAGES.flatMap((stage) => [`<${stage}>`, `</${stage}>`])),
      fc.constantFrom("I choose response 1", "I choose response 2", "incorrect", "correct", "A", "B", "(C)", "."),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(""))

describe("the parsers of model output (fuzzed)", () => {
  it("never throw, and what they find is in the text", () => {
    fc.assert(
      fc.property(modelText, (text) => {
        for (const stage of parseStages(text)) expect(text).toContain(`<${stage.stage}>${stage.text}</${stage.stage}>`)
        for (const stage of STAGES) {
          const inner = extractStage(text, stage)
          if (inner !== undefined) expect(text).toContain(inner)
        }
        const conclusion = conclusionOf(text)
        if (conclusion !== undefined) expect(text).toContain(conclusion)
        const verdict = parseVerdict(text)
        expect([0, 1]).toContain(verdict.winner)
        if (verdict.explicit) expect(text).toMatch(/I choose response [12]/)
        expect(typeof parseCorrectness(text).correct).toBe("boolean")
        const choice = extractChoice(text, { A: "circle", B: "square", C: "triangle" })
        if (choice !== undefined) expect(["A", "B", "C", "Z"]).toContain(choice)
      }),
      { numRuns: 2000 },
    )
  })
})
