import type { EndpointState } from "./Router.ts"

/** Servers named in the error; past them, how many more. */
const NAMED = 8

/** A failure as a member remembers it: cut, since an upstream's message is untrusted and may be long. */
export const failureReason = (kind: string, message: string): string => {
  const text = `${kind}: ${message}`
  return text.length <= 200 ? text : `${text.slice(0, 200)}…`
}

/** Why one server cannot take the call now, in words for an error. */
const whyOut = (state: EndpointState, now: number): string => {
  const last = state.lastFailure === undefined ? "" : ` (the last: ${state.lastFailure})`
  if (state.leaving) return "is leaving the pool"
  if (now < state.downUntil) {
    const seconds = Math.ceil((state.downUntil - now) / 1000)
    return `sits out ${seconds} s more after ${state.consecutiveFailures} failed calls in a row${last}`
  }
  if (!state.healthy) return "fails its health check (or does not serve the pool's model)"
  if (state.probation) {
    return `is on probation after ${state.consecutiveFailures} failed calls in a row${last}, and has its one call`
  }
  return "takes no call now"
}

/**
 * The error of a call no server can take: each server and why (ejected after failures, and what the last one was —
 * a timeout says so, with the try's deadline —, failing its health check, on probation, leaving), rather than a
 * bare "none is up" that sends an operator to look at servers whose /health is fine.
 */
export const noServerMessage = (
  pool: string,
  states: ReadonlyArray<EndpointState>,
  now: number,
  tried: ReadonlySet<string>,
): string => {
  if (states.length === 0) return `the ${pool} pool has no server`
  // Routing prefers untried servers but may retry one: having been tried is never the reason by itself.
  const named = states
    .slice(0, NAMED)
    .map((state) => `${state.url} ${whyOut(state, now)}${tried.has(state.url) ? " (tried by this call)" : ""}`)
  const more = states.length > NAMED ? `; and ${states.length - NAMED} more` : ""
  return `no server of the ${pool} pool can take the call: ${named.join("; ")}${more}`
}
