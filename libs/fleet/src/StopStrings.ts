/** Where the first stop string ends in `text` (as vLLM stops as soon as one completes), if any is there. */
export const firstStop = (
  text: string,
  stops: ReadonlyArray<string>,
): { readonly index: number; readonly stop: string } | undefined => {
  let best: { index: number; stop: string } | undefined
  for (const stop of stops) {
    if (stop.length === 0) continue
    const index = text.indexOf(stop)
    if (index >= 0 && (best === undefined || index + stop.length < best.index + best.stop.length))
      best = { index, stop }
  }
  return best
}

export interface StoppedText {
  readonly text: string
  readonly finishReason: string | null
  readonly stopReason: string | null
}

/**
 * One sample as the request asked for it, whatever the server did with its stop strings: cut at the first one when
 * the server wrote past it (it ignores stop strings), and put it back at the end when the server trimmed it though
 * it was asked to keep it (SGLang trims, reporting which one matched). A sample that stopped as asked is unchanged.
 */
export const applyStops = (sample: StoppedText, stops: ReadonlyArray<string>, keep: boolean): StoppedText => {
  if (stops.length === 0) return sample
  const found = firstStop(sample.text, stops)
  if (found !== undefined) {
    const end = found.index + found.stop.length
    const text = keep ? sample.text.slice(0, end) : sample.text.slice(0, found.index)
    return { text, finishReason: "stop", stopReason: found.stop }
  }
  const reported = sample.stopReason
  if (keep && sample.finishReason === "stop" && reported !== null && stops.includes(reported)) {
    return { ...sample, text: sample.text + reported }
  }
  return sample
}
