// The content model's parameters: one set, calibrated to the LLaVA-CoT paper's rows by bench/calibrate.ts (REFERENCE
// preset; bench/results/calibrate.txt has the rows, residuals and predictions). judgeSharpness is fitted by its
// `--fit` (bisection on MMVet stage-level N=4); the others were set by hand against the six rows and are assumptions:
// skill/difficultySpread (a wide spread of per-question difficulty makes greedy and one sample close and search
// gains small, as the paper's are), the weights of looks, followLean, distractorShare, judgeNoise, consistencyMerit,
// precheckBias; rationaleGap and positionBias come from the literature (below). Benchmarks may replace
// them for a run (configureContentModel): the simulators of a benchmark run in its process and read them live.

export interface ContentModel {
  /** Key of the answer key (truth.ts): changing it moves every question's correct option, and nothing else. */
  readonly world: string
  /** The generator's mean log-odds of leaning to the correct option on a question of average difficulty. */
  readonly skill: number
  /** Standard deviation of the questions' difficulty, in the same log-odds. */
  readonly difficultySpread: number
  /** How much the look of the summary and caption (mean, standard normal) moves those log-odds. */
  readonly contextWeight: number
  /** How much the look of the reasoning's own argument moves them. */
  readonly reasoningWeight: number
  /** Chance that a sampled conclusion follows the reasoning's lean; otherwise it names any option. */
  readonly followLean: number
  /**
   * Greedy decoding (temperature 0) leans to the correct option when it is the most likely one: when its probability
   * exceeds the strongest distractor's, which holds this share of the rest.
   */
  readonly distractorShare: number
  /** The judge's per-text error (standard deviation, in look units): it misjudges a text the same way every time. */
  readonly judgeNoise: number
  /** How sharply a judge's belief follows the perceived difference (log-odds per look unit, at competence 1/2). */
  readonly judgeSharpness: number
  /** Merit a judge sees in a conclusion that names the option its reasoning leans to (look units). */
  readonly consistencyMerit: number
  /**
   * The fraction of a judge's sharpness lost when it answers without a rationale (a constrained one-label verdict).
   * Default 0.2, plausible range 0–0.5: chain of thought gave no gain outside maths and symbolic tasks (Sprague et
   * al. 2024, "To CoT or not to CoT", arXiv 2409.12183), while GPT-4's failures grading maths fell from 14/20 to
   * 6/20 with a reasoned judge prompt (Zheng et al. 2023, MT-Bench, arXiv 2306.05685, §3.4).
   */
  readonly rationaleGap: number
  /**
   * The share of verdicts that name the first position whatever the texts (negative: the second), for a judge whose
   * simulator sets no positionBias. Default 0.25: GPT-4's pairwise verdicts favoured the first response in 30% of
   * swapped pairs and the second in 5% (Zheng et al. 2023, MT-Bench, arXiv 2306.05685, Table 2: 65% consistent).
   */
  readonly positionBias: number
  /** Log-odds added to the judge's competence: 0 for the self-judge, more for a stronger judge model. */
  readonly judgeSkillBoost: number
  /** The pre-check's log-odds of 'correct' for a reasoning of average look. */
  readonly precheckBias: number
}

export const DEFAULT_CONTENT_MODEL: ContentModel = {
  world: "stagebeam",
  skill: 0.6,
  difficultySpread: 3.5,
  contextWeight: 0.5,
  reasoningWeight: 0.5,
  followLean: 0.98,
  distractorShare: 1,
  judgeNoise: 0.6,
  judgeSharpness: 0.953125,
  consistencyMerit: 0.8,
  rationaleGap: 0.2,
  positionBias: 0.25,
  judgeSkillBoost: 0,
  precheckBias: 1.0,
}

let current: ContentModel = DEFAULT_CONTENT_MODEL

/** The parameters in force, as a plain object (for printing). */
export const currentContentModel = (): ContentModel => current

/** The parameters in force (a live view: configureContentModel replaces them). */
export const contentModel: ContentModel = new Proxy({} as ContentModel, {
  get: (_, key) => current[key as keyof ContentModel],
})

/** Replaces parameters for this process (benchmarks, tests); returns the previous set. */
export const configureContentModel = (patch: Partial<ContentModel>): ContentModel => {
  const previous = current
  current = { ...current, ...patch }
  return previous
}
