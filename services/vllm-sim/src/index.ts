// Public API of @stagebeam/vllm-sim: an in-process vLLM v0.10.2 look-alike serving Llama-3.2V-11B-cot, which can
// also answer like vLLM 0.12+, SGLang or a minimal OpenAI-compatible server (behaviours).
export {
  type Behaviour,
  type BehaviourName,
  behaviours,
  type ChoiceField,
  defaultBehaviourName,
  resolveBehaviour,
} from "./behaviour.ts"
// The content model without the HTTP server, for benchmarks that simulate many searches in process (bench/calibrate.ts).
export { continueAnswer } from "./content/cot.ts"
export { judgePair, parsePairwisePrompt, parsePrecheck, perceivedMerit, precheck } from "./content/judge.ts"
export {
  type ContentModel,
  configureContentModel,
  contentModel,
  currentContentModel,
  DEFAULT_CONTENT_MODEL,
} from "./content/model.ts"
export { candidateQuality, competenceLogit, look } from "./content/quality.ts"
export { parseQuestion } from "./content/question.ts"
export { crossEncoderScore, latentQuality, REWARD_MEAN, REWARD_STD, rewardScore } from "./content/reward.ts"
export { type SyntheticQuestion, syntheticQuestions } from "./content/synthetic.ts"
export { isConclusionCorrect, truthFor } from "./content/truth.ts"
export type { RequestRecord } from "./engine.ts"
export type { ErrorFormat } from "./errors.ts"
export type { FaultConfig } from "./faults.ts"
export { type ImageSize, imageSize, tilesFor } from "./images.ts"
export type { Task } from "./pooling.ts"
export {
  defaultProfileName,
  imageTokensOf,
  type Profile,
  predictDecodeStepMs,
  predictPrefillMs,
  profiles,
} from "./profiles.ts"
export { makeRng } from "./random.ts"
export type { SimStats } from "./server.ts"
export {
  type CrashOptions,
  type RunningSimulator,
  resolveProfile,
  type SimulatorOptions,
  SimulatorStartError,
  serveSimulator,
  startSimulator,
} from "./simulator.ts"
