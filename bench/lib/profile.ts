// The simulator profile a timing benchmark runs on: the default H100 one, or `--profile NAME` (e.g. the pessimistic
// variant, whose figures are saved beside the default's as <name>-pessimistic.txt). Its assumptions go into the
// results, so each figure says what it rests on.
import { defaultProfileName, profiles } from "@stagebeam/vllm-sim"

const at = process.argv.indexOf("--profile")
export const BENCH_PROFILE = at === -1 ? defaultProfileName : (process.argv[at + 1] ?? "")
if (!profiles.has(BENCH_PROFILE)) {
  console.error(`--profile: unknown profile "${BENCH_PROFILE}" (known: ${[...profiles.keys()].join(", ")})`)
  process.exit(2)
}

/** The results file's name: `base` on the default profile, `base-<suffix>` on another (the name past the default's). */
export const resultsName = (base: string): string =>
  BENCH_PROFILE === defaultProfileName
    ? base
    : `${base}-${BENCH_PROFILE.startsWith(`${defaultProfileName}-`) ? BENCH_PROFILE.slice(defaultProfileName.length + 1) : BENCH_PROFILE}`

/** The profile's assumptions, one line each, for the results' footer. */
export const profileAssumptions = (): ReadonlyArray<string> => {
  const profile = profiles.get(BENCH_PROFILE)!
  return [
    `Simulator profile "${profile.name}": ${profile.description}. Its assumptions (services/vllm-sim/src/profiles.ts):`,
    ...profile.assumptions.map((line) => `  - ${line}`),
  ]
}
