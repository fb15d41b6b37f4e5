/**
 * The VLMEvalKit commit whose scoring rules and grading prompts stagebeam eval follows: open-compass/VLMEvalKit
 * 7de2dcbc22baf9eee803bd690666556b7fda2cec (2024-11-14, "update InternVL2-8B-MPO (#601)"), the copy in use when the
 * LLaVA-CoT paper's table was made (arXiv 2411.10440 v1, November 2024). Later copies changed can_infer_option.
 */
export const VLMEVALKIT_COMMIT = "7de2dcbc22baf9eee803bd690666556b7fda2cec"

/** What VLMEvalKit's OpenAI wrapper answers when every try failed (vlmeval/api/base.py fail_msg). */
export const FAIL_MSG = "Failed to obtain answer via API."
