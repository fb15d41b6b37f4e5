import { describe, expect, it } from "@effect/vitest"
import llama3Tokenizer from "llama3-tokenizer-js"
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
