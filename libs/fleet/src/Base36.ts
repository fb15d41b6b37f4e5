const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

/**
 * `value.toString(36)` for a safe integer (what Random's nextIntUnsafe draws), by integer steps: V8's radix
 * conversion of a double took ~1.5 µs, a share of a call's own bookkeeping (the upstream request id, issue #24).
 * Exact: each quotient's fraction is a multiple of 1/36, more than the division's rounding below 2^53.
 */
export const base36 = (value: number): string => {
  if (!Number.isSafeInteger(value)) return value.toString(36)
  let rest = value < 0 ? -value : value
  if (rest === 0) return "0"
  let digits = ""
  while (rest > 0) {
    const quotient = Math.floor(rest / 36)
    digits = DIGITS[rest - quotient * 36] + digits
    rest = quotient
  }
  return value < 0 ? `-${digits}` : digits
}
