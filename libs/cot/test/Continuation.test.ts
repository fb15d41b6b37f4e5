import { describe, expect, it } from "@effect/vitest"
import llama3Tokenizer from "llama3-tokenizer-js"
import { periodTokenIds } from "../src/SentenceStop.ts"
import { continuationPrefix, STAGE_SEPARATOR } from "../src/Stage.ts"

const encode = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false })
const pieces = (text: string) => encode(text).map((id) => llama3Tokenizer.decode([id]))

/** The model's own output as it writes it: four stages, a blank line between two. */
const OWN_OUTPUT =
  "<SUMMARY> I will count the cups on the table. </SUMMARY>\n\n<CAPTION> A wooden table with three red cups. </CAPTION>\n\n" +
  "<REASONING> There are three cups. </REASONING>\n\n<CONCLUSION> C </CONCLUSION>"

describe("continuationPrefix (the Llama 3 tokenizer)", () => {
  for (const stage of ["SUMMARY", "CAPTION", "REASONING"]) {
    it(`a prompt continued after </${stage}> ends in the model's own tokens`, () => {
      const own = encode(OWN_OUTPUT)
      const cut = OWN_OUTPUT.slice(0, OWN_OUTPUT.indexOf(`</${stage}>`) + `</${stage}>`.length)
      // What vLLM's stop string leaves: the closing tag's last token, ">\n\n", cut to ">" — not the model's tokens.
      const asCut = encode(cut)
      expect(asCut.at(-1)).not.toBe(own[asCut.length - 1])
      expect(pieces(cut).at(-1)).toBe(">")
      // Continued: exactly the model's own token ids up to there, the last one ">\n\n".
      const continued = encode(continuationPrefix(cut))
      expect(continued).toEqual(own.slice(0, continued.length))
      expect(llama3Tokenizer.decode([continued.at(-1)!])).toBe(`>${STAGE_SEPARATOR}`)
    })
  }
  it("leaves an empty answer, a finished answer and a stage cut mid-way as they are", () => {
    expect(continuationPrefix("")).toBe("")
    expect(
      continuationPrefix(
        "<SUMMARY> x </SUMMARY>\n\n<CAPTION> y </CAPTION>\n\n<REASONING> z </REASONING>\n\n<CONCLUSION> C </CONCLUSION>",
      ),
    ).toMatch(/<\/CONCLUSION>$/)
    expect(continuationPrefix("<SUMMARY> half")).toBe("<SUMMARY> half")
  })
})

describe("periodTokenIds (the reference's StopOnPeriod on the Llama 3 tokenizer)", () => {
  /** Where the reference stops: after the first token whose decoded text so far ends with ".". */
  const referenceStop = (text: string) => {
    const ids = encode(text)
    for (let i = 1; i <= ids.length; i++) if (llama3Tokenizer.decode(ids.slice(0, i)).endsWith(".")) return i
    return undefined
  }
  const stopTokenStop = (text: string) => {
    const stops = new Set(periodTokenIds())
    const at = encode(text).findIndex((id) => stops.has(id))
    return at < 0 ? undefined : at + 1
  }
  for (const text of [
    "The cups are red.\n\nThe table is brown. It is old",
    "There are 3.5 cups (about 3). Then",
    "See the U.S. map. Next",
    "No period at all",
  ]) {
    it(`stops where the reference stops: ${JSON.stringify(text)}`, () => {
      expect(stopTokenStop(text)).toBe(referenceStop(text))
    })
  }
  it('does not stop on the period inside ".\\n\\n", as vLLM\'s stop string "." would', () => {
    const text = "The cups are red.\n\nThe table is brown. It"
    const ids = encode(text)
    expect(llama3Tokenizer.decode(ids.slice(0, stopTokenStop(text)))).toBe("The cups are red.\n\nThe table is brown.")
    expect(text.indexOf(".")).toBeLessThan("The cups are red.\n\nThe table is brown.".length - 1)
  })
})
