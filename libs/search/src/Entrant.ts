import { referenceView, type StepKind } from "@stagebeam/cot"
import { type Candidate, readableText } from "./Candidate.ts"
import type { Run } from "./Run.ts"

/** One step of a strategy: what is sampled, and what the judge is told. */
export interface StepSpec {
  readonly step: number
  readonly kind: StepKind
  /** The chosen answer so far, continued by every candidate. */
  readonly prefix: string
  readonly n: number
  readonly stop: ReadonlyArray<string>
  readonly stopTokenIds?: ReadonlyArray<number>
  /** Context for the judge (see judgePrompt), for the CORRECTED wording; REFERENCE takes the candidates' own. */
  readonly hint: string | undefined
}

/** A candidate as it enters the tournament. */
export interface Entrant {
  readonly candidate: Candidate
  /** What the judge is shown of it; undefined when it has nothing the judge can read (a kept malformed candidate). */
  readonly judged: string | undefined
  /** The hint it sets: the step's for CORRECTED; for REFERENCE its own, and a match keeps the second's when set. */
  readonly hint: string | undefined
  /** Entrants with equal keys look the same to the judge and the pre-check; undefined: like no other. */
  readonly key: string | undefined
}

/** How the judge sees one candidate under the run's wording (see referenceView for REFERENCE). */
export const entrantOf = (run: Run, spec: StepSpec, candidate: Candidate): Entrant => {
  if (run.selection.rules.wording === "REFERENCE") {
    const view = referenceView(spec.kind, spec.prefix + candidate.text)
    const key = view.judged === undefined ? undefined : JSON.stringify([view.judged, view.hint ?? null])
    return { candidate, judged: view.judged, hint: view.hint, key }
  }
  const judged = candidate.valid ? candidate.judgedText : readableText(spec.kind, candidate.text)
  return { candidate, judged, hint: spec.hint, key: judged }
}

// Unreadable entrants are never merged: each gets a key of its own.
export const mergeKey = (entrant: Entrant): string => entrant.key ?? `\u0000unreadable ${entrant.candidate.index}`

/** Whether a candidate enters the step's tournament under the run's rules (malformed KEEP keeps invalid ones). */
export const enters = (run: Run, candidate: Candidate): boolean =>
  run.selection.rules.malformed === "KEEP" || candidate.valid
