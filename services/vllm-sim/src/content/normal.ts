// Standard normal numbers fixed by a text: what a model perceives of a text must be the same on every simulator.
import { unitHash } from "../random.ts"

/** A standard normal number fixed by a key (Box–Muller over two keyed hashes). */
export const keyedNormal = (salt: string, key: string): number => {
  const u1 = Math.max(1e-12, unitHash(`${salt}-1`, key))
  const u2 = unitHash(`${salt}-2`, key)
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}
