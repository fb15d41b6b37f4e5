import { withDefault } from "@stagebeam/cot"
import { Schema } from "effect"

/**
 * The knobs of SWIRES (inference/VLMEvalKit/swires.py in PKU-YuanGroup/LLaVA-CoT), with its defaults. The captions
 * per pass are the request's `candidates` (4, as in the code and the paper's Table 8).
 */
export const SWIRES_DEFAULTS = {
  /** Captions kept per pass, best scored first (the code's `range(2)`, the paper's "top 2"). */
  keep: 2,
  /** Reasonings sampled continuing each kept caption (the code's inner `range(2)`). */
  reasoningsPerCaption: 2,
  /** Best reasonings of the whole pool that each get one conclusion (the code's `range(3)`). */
  conclusions: 3,
  /**
   * Retraces after the first pass. The paper's Table 8 says 3; the code's `max_backtrack = 4` with
   * `while backtrack_count <= max_backtrack` allows 4 (five passes). The paper's number is the default.
   */
  maxRetraces: 3,
  /**
   * A pass is accepted when the second-best reasoning score of the pool is above this: the code's
   * `reward_mean + Z * reward_std` = −0.77 + 0.2533 × 2.08, the 60th percentile of the score distribution it assumes
   * for internlm-xcomposer2d5-7b-reward. Another reward model needs its own.
   */
  cutoff: -0.77 + 0.2533 * 2.08,
} as const

const Count = (maximum: number) => Schema.Int.check(Schema.isBetween({ minimum: 1, maximum }))

export const SwiresOptions = Schema.Struct({
  keep: Count(16).pipe(withDefault(SWIRES_DEFAULTS.keep)),
  reasoningsPerCaption: Count(16).pipe(withDefault(SWIRES_DEFAULTS.reasoningsPerCaption)),
  conclusions: Count(16).pipe(withDefault(SWIRES_DEFAULTS.conclusions)),
  maxRetraces: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 16 })).pipe(
    withDefault(SWIRES_DEFAULTS.maxRetraces),
  ),
  cutoff: Schema.Finite.pipe(withDefault(SWIRES_DEFAULTS.cutoff)),
})
export type SwiresOptions = typeof SwiresOptions.Type
