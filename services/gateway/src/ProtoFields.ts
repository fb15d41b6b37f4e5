import { snakeCase } from "@stagebeam/proto"
import type { FieldRef } from "./RequestPath.ts"

/**
 * A field as the proto spells it (ReasonRequest, e.g. "search.candidates_per_stage"): the gRPC door's one rendering
 * of a `RequestPath`. Most search fields are `search.<snake_case>`; the rest are named here.
 */
export const protoField = (field: FieldRef): string => {
  if (typeof field === "string") return field
  const path: ReadonlyArray<string> = field
  if (path.length === 0) return "request"
  const dotted = path.map(snakeCase).join(".")
  switch (path[0]) {
    case "image":
    case "judge":
      return dotted
    case "question":
      return "question"
    case "imageUrl":
      return "image.url"
    case "candidates":
      return "search.candidates_per_stage"
    case "reasoningCheck":
      return "search.reasoning_check_mode"
    case "wording":
      return "search.prompt_wording"
    case "bothOrders":
      return "judge.both_orders"
    case "deadlineMs":
      return "deadline"
    default:
      return `search.${dotted}`
  }
}
