// LLaVA-CoT style text: <SUMMARY>, <CAPTION>, <REASONING>, <CONCLUSION>, written sentence by sentence from phrase
// banks that mention the question's topic and options. Given a prefix (the chosen earlier stages, possibly ending
// inside a stage), it writes the rest of the answer the way the model would: opening tags included.
import type { Rng } from "../random.ts"
import { contentModel } from "./model.ts"
import { leanLogit, leanPattern, type StageName, sigmoid, stageNames } from "./quality.ts"
import type { ParsedQuestion, QuestionOption } from "./question.ts"
import { truthFor } from "./truth.ts"

export interface PrefixStages {
  /** Inner text of every complete stage in the prefix. */
  readonly complete: Partial<Record<StageName, string>>
  /** The stage the prefix ends inside of, with the text written so far. */
  readonly open: { readonly stage: StageName; readonly text: string } | undefined
}

export const parsePrefix = (prefix: string): PrefixStages => {
  const complete: Partial<Record<StageName, string>> = {}
  let open: PrefixStages["open"]
  for (const stage of stageNames) {
    const start = prefix.lastIndexOf(`<${stage}>`)
    if (start < 0) continue
    const bodyStart = start + stage.length + 2
    const end = prefix.indexOf(`</${stage}>`, bodyStart)
    if (end >= 0) complete[stage] = prefix.slice(bodyStart, end)
    else open = { stage, text: prefix.slice(bodyStart) }
  }
  return { complete, open }
}

const openAnswers = ["two", "three", "red", "on the left side", "a wooden table", "yes", "no", "the larger one", "12"]

const fill = (template: string, vars: Readonly<Record<string, string>>) =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? k)

const banks = {
  summary: [
    "I will examine the image to find {topic}, then compare what I see with the given options and choose the one that matches.",
    "To answer this, I will look for {topic} in the image and match the observed details against the answer choices.",
    "I need to identify {topic} from the image and then select the option that is most consistent with the visual evidence.",
    "The approach is to locate the part of the image that shows {topic}, describe it, and reason about which choice fits best.",
    "I will describe the relevant region of the image, reason step by step about {topic}, and then give the answer.",
  ],
  summaryExtra: [
    "I will rule out options that contradict what is visible.",
    "Careful attention to small details should settle the question.",
    "The question can be answered directly from what the image shows.",
  ],
  captionOpen: [
    "The image shows a scene with several objects, and the details needed to determine {topic} are visible.",
    "The picture depicts an everyday setting, and the region that shows {topic} is in the centre of the frame.",
    "The photograph presents a clear view of the scene, including the part that reveals {topic}.",
    "The image contains a few distinct objects, one of which is directly relevant to {topic}.",
  ],
  captionDetail: [
    "The lighting is even and the main objects are easy to distinguish.",
    "There are a few background elements, but they do not obscure the relevant details.",
    "Its colours and shapes are distinct from the surrounding objects.",
    "Some smaller details are partly hidden, which makes a careful look necessary.",
    "The relevant region is in sharp focus while the background is slightly blurred.",
    "Text and markings in the image are small but still readable.",
  ],
  captionNoImage: [
    "No image is provided, so I rely on the text of the question about {topic}.",
    "There is no picture attached, so the description has to come from the question itself.",
  ],
  reasoningOpen: [
    "To determine {topic}, I focus on the part of the image described above.",
    "Looking closely at the relevant region helps to decide {topic}.",
    "The key evidence for deciding {topic} comes from the details noted in the caption.",
  ],
  reasoningOption: [
    "Option {letter} ({text}) does not match the visible details as well as the others.",
    "Option {letter} ({text}) seems plausible at first, but a closer look makes it less likely.",
    "The features in the image are only partly consistent with option {letter} ({text}).",
    "Comparing the evidence with option {letter} ({text}) reveals a mismatch in the details.",
  ],
  reasoningGeneric: [
    "The shapes and colours in that region are consistent with one of the choices.",
    "Other parts of the image do not change this interpretation.",
    "Taking the whole scene into account keeps the interpretation consistent.",
  ],
  reasoningLean: [
    "Weighing these observations, the evidence points to option {letter} ({text}).",
    "Taken together, the evidence points to option {letter} ({text}).",
    "After eliminating the weaker choices, the evidence points to option {letter} ({text}).",
  ],
  reasoningOpenAnswer: [
    "Taken together, the observations suggest that the answer is {answer}.",
    "Weighing these observations, the most likely answer is {answer}.",
  ],
  conclusion: ["{letter}", "The answer is {letter}.", "{letter}. {text}", "The correct option is {letter}."],
  conclusionOpen: ["{answer}", "The answer is {answer}."],
  filler: [
    " The details above remain consistent with this answer.",
    " No further information in the image changes the result.",
    " This completes the analysis of the question.",
  ],
} as const

interface Writer {
  readonly question: ParsedQuestion
  /** The correct option (the generator's correctness model is the one reader of the answer key). */
  readonly truth: string | undefined
  readonly hasImage: boolean
  /** Temperature 0: the most likely option, not a draw. */
  readonly greedy: boolean
  readonly rng: Rng
}

const sentencesOf = (text: string): number => text.split(/(?<=\.)\s+/).filter((s) => s.trim().length > 0).length

const vars = (w: Writer): Record<string, string> => ({ topic: w.question.topic })

/** The remaining sentences of a stage whose first `written` sentences already exist. */
const stageSentences = (w: Writer, stage: StageName, written: string, earlier: PrefixStages["complete"]): string[] => {
  const { rng, question } = w
  const done = sentencesOf(written)
  const out: string[] = []
  const want = (min: number, max: number) => Math.max(0, min + rng.int(max - min + 1) - done)
  switch (stage) {
    case "SUMMARY": {
      const total = want(1, 2)
      for (let i = 0; i < total; i++)
        out.push(fill(rng.pick(done + i === 0 ? banks.summary : banks.summaryExtra), vars(w)))
      return out
    }
    case "CAPTION": {
      const total = want(2, 4)
      for (let i = 0; i < total; i++) {
        const first = done + i === 0
        const bank = first ? (w.hasImage ? banks.captionOpen : banks.captionNoImage) : banks.captionDetail
        out.push(fill(rng.pick(bank), vars(w)))
      }
      return out
    }
    case "REASONING": {
      if (leanPattern.test(written) || /answer is/.test(written)) return out
      const body = want(2, 4)
      for (let i = 0; i < body; i++) {
        if (done + i === 0) out.push(fill(rng.pick(banks.reasoningOpen), vars(w)))
        else if (question.options.length > 0 && rng.next() < 0.6) {
          const o = rng.pick(question.options)
          out.push(fill(rng.pick(banks.reasoningOption), { letter: o.letter, text: o.text.replace(/\.$/, "") }))
        } else out.push(rng.pick(banks.reasoningGeneric))
      }
      out.push(leanSentence(w, earlier, `${written} ${out.join(" ")}`))
      return out
    }
    case "CONCLUSION": {
      if (written.trim().length > 0) return out
      return [conclusionText(w, earlier)]
    }
  }
}

const leanSentence = (w: Writer, earlier: PrefixStages["complete"], argument: string): string => {
  const { rng, question } = w
  if (question.options.length === 0 || w.truth === undefined) {
    if (question.options.length > 0) {
      const o = rng.pick(question.options)
      return fill(rng.pick(banks.reasoningLean), { letter: o.letter, text: o.text.replace(/\.$/, "") })
    }
    return fill(rng.pick(banks.reasoningOpenAnswer), { answer: rng.pick(openAnswers) })
  }
  const option = pickOption(w, leanLogit(question, earlier.SUMMARY ?? "", earlier.CAPTION ?? "", argument))
  return fill(rng.pick(banks.reasoningLean), { letter: option.letter, text: option.text.replace(/\.$/, "") })
}

/**
 * The correct option with log-odds `logit` (sampling), or when it is the most likely option (greedy: its probability
 * above the strongest distractor's share of the rest); otherwise one of the wrong ones.
 */
const pickOption = (w: Writer, logit: number): QuestionOption => {
  const { rng, question } = w
  const truth = question.options.find((o) => o.letter === w.truth)!
  const correct = w.greedy ? logit > Math.log(contentModel.distractorShare) : rng.next() < sigmoid(logit)
  if (correct) return truth
  return rng.pick(question.options.filter((o) => o !== truth))
}

const conclusionText = (w: Writer, earlier: PrefixStages["complete"]): string => {
  const { rng, question } = w
  if (question.options.length === 0) {
    const said = /answer is ([^.]+)\./.exec(earlier.REASONING ?? "")?.[1]
    return fill(rng.pick(banks.conclusionOpen), { answer: said ?? rng.pick(openAnswers) })
  }
  const lean = leanPattern.exec(earlier.REASONING ?? "")?.[1]
  let option: QuestionOption
  if (lean !== undefined && question.options.some((o) => o.letter === lean)) {
    option =
      w.greedy || rng.next() < contentModel.followLean
        ? question.options.find((o) => o.letter === lean)!
        : rng.pick(question.options)
  } else if (w.truth !== undefined) {
    option = pickOption(w, leanLogit(question, earlier.SUMMARY ?? "", earlier.CAPTION ?? "", earlier.REASONING ?? ""))
  } else option = rng.pick(question.options)
  return fill(rng.pick(banks.conclusion), { letter: option.letter, text: option.text.replace(/\.$/, "") })
}

export interface Continuation {
  /** The text the model writes after the prefix, up to its natural end (end of the CONCLUSION stage). */
  readonly text: string
  /** Extra text the model would write past its end when told to ignore EOS (benchmarks with fixed lengths). */
  readonly filler: (rng: Rng) => string
}

/** Writes everything after `prefix` through the end of the CONCLUSION stage. */
export const continueAnswer = (
  question: ParsedQuestion,
  hasImage: boolean,
  prefix: string,
  rng: Rng,
  greedy = false,
): Continuation => {
  const w: Writer = { question, truth: truthFor(question.options), hasImage, greedy, rng }
  const parsed = parsePrefix(prefix)
  const earlier: Partial<Record<StageName, string>> = { ...parsed.complete }
  let text = ""
  let startIndex = 0
  if (parsed.open !== undefined) {
    const { stage, text: written } = parsed.open
    const rest = stageSentences(w, stage, written, earlier)
    const sep = written.length === 0 || /\s$/.test(written) ? "" : " "
    const added = rest.length > 0 ? sep + rest.join(" ") : ""
    text += `${added}</${stage}>`
    earlier[stage] = written + added
    startIndex = stageNames.indexOf(stage) + 1
  } else {
    const last = [...stageNames].reverse().find((s) => parsed.complete[s] !== undefined)
    startIndex = last === undefined ? 0 : stageNames.indexOf(last) + 1
  }
  for (let i = startIndex; i < stageNames.length; i++) {
    const stage = stageNames[i]!
    const body = stageSentences(w, stage, "", earlier).join(" ")
    earlier[stage] = body
    const before = prefix.length + text.length === 0 ? "" : /\s$/.test(prefix + text) ? "" : "\n\n"
    text += `${before}<${stage}>${body}</${stage}>`
  }
  return { text, filler: (r) => r.pick(banks.filler) }
}
