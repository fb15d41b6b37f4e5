// Performance profiles as data. Every number carries where it comes from or what it assumes; the README repeats
// them. All durations are in virtual milliseconds (divided by the simulator's speed factor at run time).

export interface Profile {
  readonly name: string
  readonly description: string
  /** Concurrent sequences the scheduler runs (vLLM --max-num-seqs). Each of a request's n samples takes one. */
  readonly maxNumSeqs: number
  /** vLLM --max-model-len: decoder prompt tokens + max_tokens must fit. */
  readonly maxModelLen: number
  /** Vision-encoder tokens per image (reported in usage.prompt_tokens). */
  readonly imageTokens: number
  /** Images allowed per request (vLLM --limit-mm-per-prompt image=1). */
  readonly maxImagesPerPrompt: number
  /** Prefill: fixed cost per prefill step + per prompt text token + per image (vision encoder and cross-attention K/V). */
  readonly prefillBaseMs: number
  readonly prefillPerTokenMs: number
  readonly imageEncoderMs: number
  /** Decode step: fixed cost + per running sequence + per 1000 tokens of self-attention context held by the batch. */
  readonly decodeBaseMs: number
  readonly decodePerSeqMs: number
  readonly decodePerKContextMs: number
  /** KV cache size in tokens, vLLM block size, and the per-request cross-attention KV of one image in token units. */
  readonly kvCapacityTokens: number
  readonly blockSize: number
  readonly imageKvTokens: number
  /** Automatic prefix caching (off for mllama on vLLM's V0 engine). */
  readonly prefixCaching: boolean
  /** Engine start-up time before /health answers 200 when slow start is requested without a duration. */
  readonly startupMs: number
  readonly sources: ReadonlyArray<string>
  readonly assumptions: ReadonlyArray<string>
}

const h100: Profile = {
  name: "llama-3.2-11b-vision-h100",
  description: "Xkev/Llama-3.2V-11B-cot (mllama) on one H100 80GB SXM, vLLM v0.10.2 V0 engine, --enforce-eager",
  maxNumSeqs: 16,
  maxModelLen: 8192,
  imageTokens: 6404,
  maxImagesPerPrompt: 1,
  prefillBaseMs: 20,
  prefillPerTokenMs: 0.04,
  imageEncoderMs: 45,
  decodeBaseMs: 16,
  decodePerSeqMs: 0.4,
  decodePerKContextMs: 0.04,
  kvCapacityTokens: 360_000,
  blockSize: 16,
  imageKvTokens: 1600,
  prefixCaching: false,
  startupMs: 60_000,
  sources: [
    "vLLM issue #8826: --enforce-eager --max-num-seqs 16 works for Llama-3.2-11B-Vision; --max-model-len 8192",
    "vLLM v0.10.2 is the last release with mllama (registry _PREVIOUSLY_SUPPORTED_MODELS; PRs #24907, #24961); V0 engine: no prefix caching, no chunked prefill",
    "Llama 3.2 Vision: 1120x1120 image = 4 tiles x 1601 patches = 6404 vision tokens; 40 decoder layers (32 self-attention + 8 cross-attention), 8 KV heads x 128 dims",
    "H100 SXM: 3.35 TB/s HBM3, ~990 dense bf16 TFLOPs; 8B-class models see 60-120 ms TTFT and 10-15 ms/token at batch 1 (public benchmarks)",
  ],
  assumptions: [
    "decode at batch 1: 21 GB bf16 weights / 3.35 TB/s = 6.3 ms ideal, plus eager-mode kernel launch overhead (no CUDA graphs) => 16 ms",
    "each extra running sequence adds 0.4 ms per step (its self- and cross-attention reads: 6404 image tokens x 8 layers x 4 KiB = 205 MB per request ~ 0.06 ms, plus sampling and Python scheduling overhead)",
    "self-attention KV is 128 KiB per token (32 layers x 4 KiB) => 0.04 ms per 1000 context tokens read per step",
    "prefill at ~400 effective TFLOPs (40% MFU, eager): 16 GFLOP per token => 0.04 ms/token, plus 20 ms fixed step cost",
    "vision encoder (~0.9B params over 6404 patch tokens, ~11.5 TFLOP) plus cross-attention K/V projection => 45 ms per image; TTFT for an image and 100 text tokens ~ 69 ms",
    "KV cache: 0.9 x 80 GB - 21 GB weights - ~5 GB activations = ~46 GB / 128 KiB = ~360k tokens; one image's cross-attention KV (8 layers x 6404 tokens) counts as 1600 token slots per request",
    "n samples share one prefill (prompt and image); each sample is one sequence in the batch",
  ],
}

const a100: Profile = {
  ...h100,
  name: "llama-3.2-11b-vision-a100-40g",
  description: "Xkev/Llama-3.2V-11B-cot on one A100 40GB, vLLM v0.10.2 V0 engine, --enforce-eager",
  prefillBaseMs: 25,
  prefillPerTokenMs: 0.11,
  imageEncoderMs: 120,
  decodeBaseMs: 24,
  decodePerSeqMs: 0.7,
  decodePerKContextMs: 0.08,
  kvCapacityTokens: 60_000,
  sources: [...h100.sources, "A100 40GB: 1.56 TB/s HBM2, ~312 dense bf16 TFLOPs"],
  assumptions: [
    "decode at batch 1: 21 GB / 1.56 TB/s = 13.5 ms ideal plus eager overhead => 24 ms",
    "prefill at ~140 effective TFLOPs => 0.11 ms/token; vision encoder 120 ms per image",
    "KV cache: 0.9 x 40 GB - 21 GB weights - ~7 GB => ~8 GB / 128 KiB => ~60k tokens, so preemption appears at full batch with long answers",
  ],
}

/** A fast, small profile for tests: few slots, a tiny KV cache (forces preemption) and prefix caching on. */
const tiny: Profile = {
  ...h100,
  name: "tiny-test",
  description: "test profile: 4 slots, tiny KV cache, prefix caching on",
  maxNumSeqs: 4,
  maxModelLen: 2048,
  imageTokens: 64,
  prefillBaseMs: 10,
  prefillPerTokenMs: 0.05,
  imageEncoderMs: 20,
  decodeBaseMs: 10,
  decodePerSeqMs: 1,
  decodePerKContextMs: 0,
  kvCapacityTokens: 3072,
  imageKvTokens: 64,
  prefixCaching: true,
  startupMs: 1000,
  sources: ["none: synthetic numbers for tests"],
  assumptions: ["small numbers so tests exercise queueing, preemption and prefix caching quickly"],
}

export const profiles: ReadonlyMap<string, Profile> = new Map([h100, a100, tiny].map((p) => [p.name, p]))

export const defaultProfileName = h100.name

/** The profile's formulas, used by the engine and by the benchmark's predictions. */
export const predictPrefillMs = (p: Profile, textTokens: number, images: number): number =>
  p.prefillBaseMs + p.prefillPerTokenMs * textTokens + p.imageEncoderMs * images

export const predictDecodeStepMs = (p: Profile, runningSeqs: number, contextTokens: number): number =>
  p.decodeBaseMs + p.decodePerSeqMs * runningSeqs + (p.decodePerKContextMs * contextTokens) / 1000
