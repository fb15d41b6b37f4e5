import { closeTag, extractStage, parseStages, type StepKind } from "@stagebeam/cot"
import type { GeneratedText } from "./Services.ts"

/**
 * A sampled continuation, classified. Invalid candidates enter a tournament only when malformed candidates are kept
 * (malformed KEEP, as the reference keeps them); by default they are dropped.
 */
export interface Candidate {
  readonly index: number
  readonly text: string
  /** What the judge is shown for this kind of step. */
  readonly judgedText: string
  readonly valid: boolean
  readonly problem: string | undefined
}

const finishProblem = (sample: GeneratedText): string | undefined =>
  sample.finishReason === "length"
    ? "stopped on length before its closing tag"
    : sample.finishReason === "abort"
      ? "aborted by the server"
      : undefined

const invalid = (index: number, text: string, problem: string): Candidate => ({
  index,
  text,
  judgedText: text,
  valid: false,
  problem,
})

/**
 * Classifies one sample of a step:
 * - a stage: must stop normally and consist of exactly that one complete stage, ending with its closing tag
 *   (the model writes the opening tag itself); the judge sees the inner text, as the reference's tag regex gives it;
 * - ALL (a whole answer): must stop normally and contain a complete CONCLUSION; the judge sees the whole text;
 * - SENTENCE: must stop normally on a period or on </CONCLUSION>, and not be blank; the judge sees the sentence.
 */
export const classify = (kind: StepKind, index: number, sample: GeneratedText): Candidate => {
  const text = sample.text
  const stopped = finishProblem(sample)
  if (stopped !== undefined) return invalid(index, text, stopped)
  switch (kind) {
    case "ALL":
      return extractStage(text, "CONCLUSION") === undefined
        ? invalid(index, text, "no complete <CONCLUSION>…</CONCLUSION>")
        : { index, text, judgedText: text, valid: true, problem: undefined }
    case "SENTENCE": {
      const sentence = text.trim()
      if (sentence.length === 0) return invalid(index, text, "empty sentence")
      if (!sentence.endsWith(".") && !sentence.includes(closeTag("CONCLUSION"))) {
        return invalid(index, text, "ended without a period or </CONCLUSION>")
      }
      return { index, text, judgedText: sentence, valid: true, problem: undefined }
    }
    default: {
      const stages = parseStages(text)
      const only = stages[0]
      if (only === undefined || only.stage !== kind) return invalid(index, text, `no complete <${kind}>…</${kind}>`)
      if (stages.length > 1) return invalid(index, text, `wrote more than the ${kind} stage`)
      if (!text.trimEnd().endsWith(closeTag(kind))) return invalid(index, text, `text after </${kind}>`)
      return { index, text, judgedText: only.text, valid: true, problem: undefined }
    }
  }
}

/**
 * What the judge can be shown of a malformed candidate that is kept (CORRECTED wording): its stage's inner text if
 * the stage is complete somewhere in it, the whole text for ALL, the trimmed sentence for SENTENCE; undefined when
 * there is nothing to show (the prompt then leaves it out).
 */
export const readableText = (kind: StepKind, text: string): string | undefined => {
  switch (kind) {
    case "ALL":
      return text
    case "SENTENCE": {
      const sentence = text.trim()
      return sentence.length === 0 ? undefined : sentence
    }
    default:
      return extractStage(text, kind)
  }
}
