import { Effect, Queue, Stream } from "effect"
import type { SearchError } from "./Errors.ts"
import { type SearchEvent, SearchEvents } from "./Events.ts"
import type { SearchRequest } from "./Request.ts"
import { runSearch } from "./Search.ts"
import type { CandidateGenerator, Judge } from "./Services.ts"

/**
 * The search as a stream of its events, as they happen; it ends after `SearchFinished` (which carries the answer)
 * or fails with the search's error. Interrupting the stream interrupts the search.
 */
export const searchStream = (
  request: SearchRequest,
): Stream.Stream<SearchEvent, SearchError, CandidateGenerator | Judge> =>
  Stream.callback<SearchEvent, SearchError, CandidateGenerator | Judge>((queue) =>
    runSearch(request).pipe(
      Effect.provideService(SearchEvents, { publish: (event) => Effect.asVoid(Queue.offer(queue, event)) }),
      Effect.andThen(Queue.end(queue)),
    ),
  )
