/**
 * Walks the fields of the message in bytes[from, to) without decoding any, handing each length-delimited one
 * (string, bytes, an embedded message) to `visit` with its number and where its value starts and ends; `visit`
 * stops the walk by returning true. Answers the first thing that is not protobuf (a tag, varint or length cut short,
 * field number 0, an unused wire type), or undefined. Allocates nothing per field: a message of millions of tiny
 * fields costs one pass.
 */
const walkFields = (
  bytes: Uint8Array,
  from: number,
  to: number,
  visit?: (number: number, start: number, end: number) => boolean,
): string | undefined => {
  let pos = from
  const varint = (): number | undefined => {
    let value = 0
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= to) return undefined
      const byte = bytes[pos++]!
      if (shift < 35) value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    return undefined
  }
  while (pos < to) {
    const tag = varint()
    if (tag === undefined) return "a field tag is cut short"
    const number = Math.floor(tag / 8)
    if (number === 0) return "a field has number 0"
    switch (tag & 7) {
      case 0:
        if (varint() === undefined) return "a varint is cut short"
        break
      case 1:
        pos += 8
        break
      case 2: {
        const length = varint()
        if (length === undefined) return "a length is cut short"
        if (pos + length > to) return "the message is truncated"
        if (visit?.(number, pos, pos + length)) return undefined
        pos += length
        break
      }
      case 5:
        pos += 4
        break
      default:
        return `wire type ${tag & 7} is not used by this service`
    }
    if (pos > to) return "the message is truncated"
  }
  return undefined
}

/**
 * Checks that bytes are a whole protobuf message at the top level: every field's tag, varint and length fits in
 * the bytes. protobufjs reads a string cut short without complaint (a request cut in its question arrives with half
 * a question), so the server checks this before decoding. A message cut exactly between two fields cannot be told
 * from a shorter valid one: that is protobuf's nature, not checked here.
 */
export const wireProblem = (bytes: Uint8Array): string | undefined => walkFields(bytes, 0, bytes.length)

/**
 * Visits the length-delimited fields of the message in bytes[from, to), in wire order (see walkFields). Stops at
 * the first thing that is not protobuf: wireProblem names it at the top level; inside, the decoder will.
 */
export const forEachDelimitedField = (
  bytes: Uint8Array,
  visit: (number: number, start: number, end: number) => boolean,
  from = 0,
  to = bytes.length,
): void => {
  walkFields(bytes, from, to, visit)
}
