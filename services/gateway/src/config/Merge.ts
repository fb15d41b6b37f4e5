import { Predicate } from "effect"

const isPlain = (value: unknown): value is Record<string, unknown> =>
  Predicate.isObject(value) && !Array.isArray(value) && !(value instanceof Date)

/** `override` on top of `base`: objects merge key by key, anything else (lists included) replaces. */
export const mergeInput = <A>(base: A, override: unknown): A => {
  if (!isPlain(base) || !isPlain(override)) return (override === undefined ? base : override) as A
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(override)) merged[key] = mergeInput(merged[key], value)
  return merged as A
}

/** The input with `value` set at `path` (objects made on the way). */
export const setAt = (input: unknown, path: ReadonlyArray<string>, value: unknown): unknown => {
  if (path.length === 0) return value
  const [head, ...rest] = path as [string, ...Array<string>]
  const object = isPlain(input) ? input : {}
  return { ...object, [head]: setAt(object[head], rest, value) }
}
