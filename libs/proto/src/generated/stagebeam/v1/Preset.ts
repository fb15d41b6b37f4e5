// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * The selection rules: DEFAULT (stagebeam's improvements on the reference, each switchable on its own below) or
 * REFERENCE (LLaVA-CoT's inference/demo/simple_inference.py, exactly: SEQUENTIAL pairing, the pre-check in every
 * REASONING match, "second" for any verdict without "I choose response 1", malformed candidates kept, the reference's
 * prompt strings byte for byte). A rule set below overrides the preset's; the response's `selection` says what ran.
 */
export const Preset = {
  PRESET_UNSPECIFIED: 'PRESET_UNSPECIFIED',
  PRESET_DEFAULT: 'PRESET_DEFAULT',
  PRESET_REFERENCE: 'PRESET_REFERENCE',
} as const;

/**
 * The selection rules: DEFAULT (stagebeam's improvements on the reference, each switchable on its own below) or
 * REFERENCE (LLaVA-CoT's inference/demo/simple_inference.py, exactly: SEQUENTIAL pairing, the pre-check in every
 * REASONING match, "second" for any verdict without "I choose response 1", malformed candidates kept, the reference's
 * prompt strings byte for byte). A rule set below overrides the preset's; the response's `selection` says what ran.
 */
export type Preset =
  | 'PRESET_UNSPECIFIED'
  | 0
  | 'PRESET_DEFAULT'
  | 1
  | 'PRESET_REFERENCE'
  | 2

/**
 * The selection rules: DEFAULT (stagebeam's improvements on the reference, each switchable on its own below) or
 * REFERENCE (LLaVA-CoT's inference/demo/simple_inference.py, exactly: SEQUENTIAL pairing, the pre-check in every
 * REASONING match, "second" for any verdict without "I choose response 1", malformed candidates kept, the reference's
 * prompt strings byte for byte). A rule set below overrides the preset's; the response's `selection` says what ran.
 */
export type Preset__Output = typeof Preset[keyof typeof Preset]
