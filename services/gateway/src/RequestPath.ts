import type { SearchPath } from "@stagebeam/search"

/**
 * A field of a Reason call as the shared path names it, whichever door the call came in by: a path into the search
 * request (the search's own vocabulary), or what the gateway reads beside the search (the image, the judge). Each
 * door spells it with one pure function: `protoField` (gRPC) and `chatField` (HTTP).
 */
export type RequestPath =
  | SearchPath
  | readonly ["image"]
  | readonly ["image", "data" | "url" | "mimeType"]
  | readonly ["judge", "kind" | "name"]

/**
 * Where an error points: a `RequestPath`, or a field only one door has (an HTTP message's role, a proto enum's
 * name), already in that door's spelling.
 */
export type FieldRef = RequestPath | string
