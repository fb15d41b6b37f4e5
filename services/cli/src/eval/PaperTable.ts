import type { Layout } from "./Dataset.ts"

/** The paper's benchmarks, in its table's order (arXiv 2411.10440 v1). */
export const PAPER_COLUMNS = ["MMStar", "MMBench", "MMVet", "MathVista", "AI2D", "HallusionBench"] as const

/** The paper's published rows (REFERENCE.md §1; arXiv 2411.10440 v1 tables), with their averages. */
export const PAPER_ROWS: ReadonlyArray<{
  readonly name: string
  readonly scores: ReadonlyArray<number>
  readonly average: number
}> = [
  { name: "paper: Llama-3.2-11B-Vision-Instruct", scores: [49.8, 65.8, 57.6, 48.6, 77.3, 40.3], average: 56.6 },
  { name: "paper: LLaVA-CoT", scores: [57.6, 75.0, 60.3, 54.8, 85.7, 47.8], average: 63.5 },
  {
    name: "paper: LLaVA-CoT + stage-level search (2 per stage)",
    scores: [58.1, 75.6, 61.7, 56.1, 87.5, 48.2],
    average: 64.5,
  },
]

/** The paper's column a benchmark file fills, or its own name for a benchmark the paper does not report. */
export const paperColumnOf = (dataset: string, layout: Layout): string => {
  const name = dataset.toLowerCase()
  if (layout === "mmbench") return "MMBench"
  if (layout === "mmvet") return "MMVet"
  if (layout === "mathvista") return "MathVista"
  if (layout === "yorn" && name.includes("hallusion")) return "HallusionBench"
  if (name.includes("mmstar")) return "MMStar"
  if (name.includes("ai2d")) return "AI2D"
  return dataset
}
