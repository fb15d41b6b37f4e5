/**
 * Gives a large Buffer's memory back now instead of at a later collection, for bytes known to be dead: the
 * ArrayBuffer is detached (`ArrayBuffer.prototype.transfer(0)`), which frees its store at once. Made when a photo
 * answer's Buffers waited for a mark-compact and their sum started one every ~13 s (bench/README.md, "Why a photo's
 * Buffers wait for a mark-compact", and "Dead Buffers freed at once": ~0.56 → ~0.41 MB left per answer). Only a view
 * that is the whole of its ArrayBuffer is released, never a slice of Node's shared pool (small Buffers). Answers
 * whether it released the bytes.
 */
export const freeBytes = (bytes: Uint8Array): boolean => {
  const buffer = bytes.buffer
  if (!(buffer instanceof ArrayBuffer) || buffer.detached) return false
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return false
  buffer.transfer(0)
  return true
}

/** Detaches each block that is still attached (a block moved to a worker is detached already). */
export const freeBlocks = (blocks: ReadonlyArray<ArrayBuffer>): void => {
  for (const block of blocks) if (!block.detached) block.transfer(0)
}
