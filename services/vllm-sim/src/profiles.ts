// Performance profiles as data. Every number carries where it comes from or what it assumes; the README repeats
// them. All durations are in virtual milliseconds (divided by the simulator's speed factor at run time).

export interface Profile {
  readonly name: string
  readonly description: string
  /** Concurrent sequences the scheduler runs (vLLM --max-num-seqs). Each of a request's n samples takes one. */
  readonly maxNumSeqs: number
  /** vLLM --max-model-len: decoder prompt tokens + max_tokens must fit. */
  readonly maxModelLen: number
  /** Vision-encoder tokens per tile (mllama: (560 / 14)² patches + 1 class token = 1601). */
  readonly tokensPerTile: number
  /** The tile's side in pixels and the most tiles an image is cut into (mllama: 560, 4). */
  readonly tileSize: number
  readonly maxTiles: number
  /** Images allowed per request (vLLM --limit-mm-per-prompt image=1). */
  readonly maxImagesPerPrompt: number
  /** Prefill: fixed cost per prefill step + per prompt text token + per image tile (vision encoder and cross-attention K/V). */
  readonly prefillBaseMs: number
  readonly prefillPerTokenMs: number
  readonly encoderMsPerTile: number
  /** Decode step: fixed cost + per running sequence + per 1000 tokens of self-attention context held by the batch. */
  readonly decodeBaseMs: number
  readonly decodePerSeqMs: number
  readonly decodePerKContextMs: number
  /**
   * KV cache size in token slots, vLLM block size, and the cross-attention slots one image tile holds per sequence.
   * A V0 slot holds every layer's K/V (the cache is allocated for all 40 layers, self- and cross-attention blocks
   * alike), so a sequence's cross-attention blocks cost as much per token as its self-attention ones.
   */
  readonly kvCapacityTokens: number
  readonly blockSize: number
  readonly crossKvTokensPerTile: number
  /** Automatic prefix caching (off for mllama on vLLM's V0 engine). */
  readonly prefixCaching: boolean
  /** Engine start-up time before /health answers 200 when slow start is requested without a duration. */
  readonly startupMs: number
  readonly sources: ReadonlyArray<string>
  readonly assumptions: ReadonlyArray<string>
}

/** Vision-encoder tokens of an image of `tiles` tiles (what V0's usage counts in prompt_tokens). */
export const imageTokensOf = (p: Profile, tiles: number): number => tiles * p.tokensPerTile

const h100: Profile = {
  name: "llama-3.2-11b-vision-h100",
  description: "Xkev/Llama-3.2V-11B-cot (mllama) on one H100 80GB SXM, vLLM v0.10.2 V0 engine, --enforce-eager",
  maxNumSeqs: 16,
  maxModelLen: 8192,
  tokensPerTile: 1601,
  tileSize: 560,
  maxTiles: 4,
  maxImagesPerPrompt: 1,
  prefillBaseMs: 20,
  prefillPerTokenMs: 0.04,
  encoderMsPerTile: 15,
  decodeBaseMs: 19,
  decodePerSeqMs: 0.4,
  decodePerKContextMs: 0.04,
  kvCapacityTokens: 290_000,
  blockSize: 16,
  crossKvTokensPerTile: 1601,
  prefixCaching: false,
  startupMs: 60_000,
  sources: [
    "vLLM issue #8826: --enforce-eager --max-num-seqs 16 works for Llama-3.2-11B-Vision; --max-model-len 8192",
    "vLLM v0.10.2 is the last release with mllama (registry _PREVIOUSLY_SUPPORTED_MODELS; PRs #24907, #24961); V0 engine: no prefix caching, no chunked prefill",
    "transformers models/mllama/image_processing_mllama.py get_optimal_tiled_canvas (commit 0350540d): 1-4 tiles of 560x560 by the image's size; config: image_size 560, patch_size 14 => 40x40 + 1 = 1601 tokens per tile",
    "Llama 3.2 11B Vision config: 40 decoder layers (32 self-attention + 8 cross-attention), 8 KV heads x 128 dims, bf16 => 40 x 8 x 128 x 2 x 2 B = 160 KiB per token slot",
    "H100 SXM: 3.35 TB/s HBM3, ~990 dense bf16 TFLOPs; 8B-class models see 60-120 ms TTFT and 10-15 ms/token at batch 1 (public benchmarks; shared/REFERENCE.md section 2)",
    "no published H100 figure for the 11B; the nearest, the 90B on 4xH100, suggests ~20 ms per output token for the 11B in eager mode (issue #18, point 6): 10-30% slower than 16 ms",
  ],
  assumptions: [
    "decode at batch 1: 21 GB bf16 weights / 3.35 TB/s = 6.3 ms ideal, plus eager-mode kernel launch overhead (no CUDA graphs) => 19 ms (the middle of the 16-21 ms the sources allow; the pessimistic profile takes 21)",
    "each extra running sequence adds 0.4 ms per step (its self- and cross-attention reads: 6404 image tokens x 8 layers x 4 KiB = 205 MB per sequence ~ 0.06 ms, plus sampling and Python scheduling overhead)",
    "self-attention KV is 128 KiB per token (32 layers x 4 KiB) => 0.04 ms per 1000 context tokens read per step",
    "prefill at ~400 effective TFLOPs (40% MFU, eager): 16 GFLOP per token => 0.04 ms/token, plus 20 ms fixed step cost",
    "vision encoder (~0.9B params over 1601 patch tokens per tile, ~2.9 TFLOP) plus the tile's cross-attention K/V projection => 15 ms per tile, per sequence (V0 runs it for every child of an n > 1 request); TTFT for a 4-tile image and 100 text tokens ~ 84 ms",
    "KV cache: 0.9 x 80 GB - 21 GB weights - ~5 GB activations = ~46 GB / 160 KiB per slot (every layer) = ~290k slots; each sequence holds its own text + output slots and tiles x 1601 cross-attention slots",
    "n > 1 on V0 is n child requests (ParallelSampleSequenceGroup): each child its own prefill, vision encoder and KV; the children's prefills share one step",
  ],
}

/**
 * The H100 profile with the sources' uncertainty taken against us: decode and prefill 30% slower (the top of the
 * 10-30% the 90B figures suggest, issue #18 point 6), the vision encoder too. Benchmarks whose claims rest on timing
 * report both.
 */
const h100Pessimistic: Profile = {
  ...h100,
  name: "llama-3.2-11b-vision-h100-pessimistic",
  description: `${h100.description}; decode, prefill and encoder 30% slower than the default profile`,
  prefillBaseMs: 26,
  prefillPerTokenMs: 0.052,
  encoderMsPerTile: 19.5,
  decodeBaseMs: 21,
  decodePerSeqMs: 0.52,
  decodePerKContextMs: 0.052,
  assumptions: [
    ...h100.assumptions,
    "pessimistic: decode 21 ms at batch 1 (16 ms x 1.3), per-sequence and per-context costs x1.3; prefill base, per-token and encoder costs x1.3",
  ],
}

const a100: Profile = {
  ...h100,
  name: "llama-3.2-11b-vision-a100-40g",
  description: "Xkev/Llama-3.2V-11B-cot on one A100 40GB, vLLM v0.10.2 V0 engine, --enforce-eager",
  prefillBaseMs: 25,
  prefillPerTokenMs: 0.11,
  encoderMsPerTile: 40,
  decodeBaseMs: 24,
  decodePerSeqMs: 0.7,
  decodePerKContextMs: 0.08,
  kvCapacityTokens: 50_000,
  sources: [...h100.sources, "A100 40GB: 1.56 TB/s HBM2, ~312 dense bf16 TFLOPs"],
  assumptions: [
    "decode at batch 1: 21 GB / 1.56 TB/s = 13.5 ms ideal plus eager overhead => 24 ms",
    "prefill at ~140 effective TFLOPs => 0.11 ms/token; vision encoder 40 ms per tile",
    "KV cache: 0.9 x 40 GB - 21 GB weights - ~7 GB => ~8 GB / 160 KiB => ~50k slots, so preemption appears at full batch with long answers",
  ],
}

/** A fast, small profile for tests: few slots, a tiny KV cache (forces preemption) and prefix caching on. */
const tiny: Profile = {
  ...h100,
  name: "tiny-test",
  description: "test profile: 4 slots, tiny KV cache, prefix caching on",
  maxNumSeqs: 4,
  maxModelLen: 2048,
  tokensPerTile: 16,
  prefillBaseMs: 10,
  prefillPerTokenMs: 0.05,
  encoderMsPerTile: 5,
  decodeBaseMs: 10,
  decodePerSeqMs: 1,
  decodePerKContextMs: 0,
  kvCapacityTokens: 3072,
  crossKvTokensPerTile: 16,
  prefixCaching: true,
  startupMs: 1000,
  sources: ["none: synthetic numbers for tests"],
  assumptions: ["small numbers so tests exercise queueing, preemption and prefix caching quickly"],
}

export const profiles: ReadonlyMap<string, Profile> = new Map(
  [h100, h100Pessimistic, a100, tiny].map((p) => [p.name, p]),
)

export const defaultProfileName = h100.name

/** The profile's formulas, used by the engine and by the benchmark's predictions. */
/** One sequence's prefill alone in a step: `tiles` is the image tiles it encodes (0 without an image). */
export const predictPrefillMs = (p: Profile, textTokens: number, tiles: number): number =>
  p.prefillBaseMs + p.prefillPerTokenMs * textTokens + p.encoderMsPerTile * tiles

export const predictDecodeStepMs = (p: Profile, runningSeqs: number, contextTokens: number): number =>
  p.decodeBaseMs + p.decodePerSeqMs * runningSeqs + (p.decodePerKContextMs * contextTokens) / 1000
