import type { Judges } from "@stagebeam/judge"
import type { ListJudgesResponse } from "@stagebeam/proto"
import { Effect } from "effect"

/** The declared judges as ListJudges (gRPC) and `GET /v1/judges` (HTTP) list them: what a client can pick by name. */
export const listJudges = (judges: Judges["Service"]): Effect.Effect<ListJudgesResponse> =>
  Effect.forEach(judges.all, (declared) =>
    Effect.map(declared.capabilities, (capabilities) => ({
      name: declared.name,
      kind: declared.kind,
      pool: declared.pool,
      model: declared.model,
      judging: declared.judging.toUpperCase(),
      // What it answers with: free text where declared so or where its pool cannot constrain a choice.
      verdicts:
        declared.judging !== "pairwise"
          ? ""
          : declared.options?.verdicts === "free_text" || capabilities.constrainedChoice === "none"
            ? "free_text"
            : "choice",
      isDefault: declared.name === judges.defaultName,
      capabilities: {
        constrainedChoice: capabilities.constrainedChoice,
        logprobs: capabilities.logprobs,
        images: capabilities.images,
        pooling: capabilities.pooling,
        score: capabilities.score,
        ignoredFields: [...(capabilities.ignoredFields ?? [])],
      },
    })),
  ).pipe(Effect.map((listed) => ({ judges: listed, defaultJudge: judges.defaultName })))
