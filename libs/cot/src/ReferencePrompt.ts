import { CRITERIA } from "./Criteria.ts"
import type { StepKind } from "./Stage.ts"

/**
 * The reference's judge and pre-check prompts, byte for byte (LLaVA-CoT inference/demo/simple_inference.py, function
 * judge), and what it shows the judge of each candidate. The quirks are the reference's and kept on purpose: the
 * "Repsonse" label, the space before "Please" when a criterion has no recall sentence, the pre-check's source
 * indentation, its trailing spaces and "invovles", and "None" as the given information when there is no caption.
 * libs/judge/test/fixtures/reference-judge.py runs the reference's own function to check these bytes.
 */

export const REFERENCE_FORMAT_INSTRUCTION =
  " Please strictly follow the following format requirements when outputting, and don’t have any other unnecessary words."

const REFERENCE_OUTPUT_FORMAT = '\n\nOutput format: "Since [reason], I choose response [1/2]."'

// The triple-quoted string of the reference, with the indentation of its source lines (8 spaces) inside it.
const REFERENCE_CORRECTNESS_INSTRUCTIONS = [
  "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct and accurate based on the given information.",
  "        You should assume that the given information about the image is correct.",
  "        You should only consider the reasoning process itself, not the correctness of the background information.  ",
  "        If the reasoning process invovles any calculations, you should verify the accuracy of the calculations.",
  "        You should output 'correct' if you don't find any errors in the reasoning process, and 'incorrect' if you find any errors.",
].join("\n")

export interface ReferenceJudgeInput {
  readonly question: string
  readonly hint: string | undefined
  /** The readable responses, in the order of the match: one the reference cannot read is left out. */
  readonly responses: ReadonlyArray<string>
}

/** The reference's judge prompt: a hint only when non-empty (Python's `if hint:`), each response on its own line. */
export const referenceJudgePrompt = (kind: StepKind, input: ReferenceJudgeInput): string => {
  const criterion = CRITERIA[kind]
  let prompt = `${criterion.task}\n\nQuestion: ${input.question}`
  if (input.hint !== undefined && input.hint.length > 0) prompt += `\n\nHint about the Question: ${input.hint}`
  for (const [i, response] of input.responses.entries()) prompt += `\nRepsonse ${i + 1}: ${response}`
  return `${prompt}\n\n${criterion.recall}${REFERENCE_FORMAT_INSTRUCTION}${REFERENCE_OUTPUT_FORMAT}`
}

/** The reference's pre-check prompt; Python formats a missing hint as "None". */
export const referenceCorrectnessPrompt = (input: {
  readonly hint?: string | undefined
  readonly reasoning: string
}): string =>
  `${REFERENCE_CORRECTNESS_INSTRUCTIONS}\n\nGiven Information: ${input.hint ?? "None"}\n\nReasoning Process: ${input.reasoning}`

/** What the reference shows the judge of one candidate, and the hint that candidate sets. */
export interface ReferenceView {
  /** The text shown as a response; undefined when the reference leaves the candidate out of the prompt. */
  readonly judged: string | undefined
  /** The hint this candidate sets; the reference keeps the one set last (the second candidate's, when it sets one). */
  readonly hint: string | undefined
}

// `re.search(r'<X>(.*?)</X>', output, re.DOTALL)`: each tag searched on its own, first match, untrimmed.
const search = (output: string, tag: string): string | undefined =>
  new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(output)?.[1]

/**
 * The reference's reading of one candidate's `output` (the whole answer so far with the candidate appended, as its
 * generated_text is): a stage is readable only when it and every earlier stage are complete in the output; a
 * sentence is `output.split(".")[-2]` and its hint the pieces before it joined by spaces; a whole answer is shown
 * as it is. A sentence without any period crashes the reference (IndexError): here it is left out, as an
 * unreadable stage is.
 */
export const referenceView = (kind: StepKind, output: string): ReferenceView => {
  switch (kind) {
    case "ALL":
      return { judged: output, hint: undefined }
    case "SENTENCE": {
      const pieces = output.split(".")
      return {
        judged: pieces.length >= 2 ? pieces[pieces.length - 2] : undefined,
        hint: pieces.length > 2 ? pieces.slice(0, -2).join(" ") : undefined,
      }
    }
    case "SUMMARY":
      return { judged: search(output, "SUMMARY"), hint: undefined }
    case "CAPTION": {
      const caption = search(output, "CAPTION")
      const readable = caption !== undefined && search(output, "SUMMARY") !== undefined
      return { judged: readable ? caption : undefined, hint: undefined }
    }
    case "REASONING": {
      const reasoning = search(output, "REASONING")
      const caption = search(output, "CAPTION")
      const readable = reasoning !== undefined && caption !== undefined && search(output, "SUMMARY") !== undefined
      return readable ? { judged: reasoning, hint: caption } : { judged: undefined, hint: undefined }
    }
    case "CONCLUSION": {
      const conclusion = search(output, "CONCLUSION")
      const caption = search(output, "CAPTION")
      const reasoning = search(output, "REASONING")
      const readable =
        conclusion !== undefined &&
        caption !== undefined &&
        reasoning !== undefined &&
        search(output, "SUMMARY") !== undefined
      // Caption and reasoning concatenated with no separator, as the reference does.
      return readable ? { judged: conclusion, hint: caption + reasoning } : { judged: undefined, hint: undefined }
    }
  }
}
