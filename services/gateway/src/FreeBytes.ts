/**
 * Gives a large Buffer's memory back now instead of at V8's next mark-compact, for bytes known to be dead: the
 * ArrayBuffer is detached (`ArrayBuffer.prototype.transfer(0)`), which frees its store at once. A photo answer's
 * Buffers outlive the young-generation collections that should free them (bench/README.md, "Why a photo's Buffers
 * wait for a mark-compact"), so each waited for a mark-compact and their sum started one every ~13 s. Only a view
 * that is the whole of its ArrayBuffer is released: a slice of Node's shared pool (small Buffers) is left alone.
 * Whether it was released.
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
