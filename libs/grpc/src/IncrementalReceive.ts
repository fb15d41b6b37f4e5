import { createRequire } from "node:module"

/**
 * grpc-js (1.14, build/src/stream-decoder.js) keeps a message's HTTP/2 DATA chunks in a list and joins them with one
 * `Buffer.concat` when the last one arrives. For a message of tens of MB that join is one event-loop turn that
 * touches every page of a fresh allocation: 60–140 ms for 20 MB on a shared 2-core VM (bench/hostile.ts), during which
 * no call on either door and no /metrics scrape moves. This decoder copies each
 * chunk into the message as it arrives, so the same copy is spread over the chunks' own turns. Same states, same output:
 * whole framed messages (flag, length, payload), each its own Buffer. The length prefix is bounded by
 * grpc.max_receive_message_length (checked first, as grpc-js does), but it is only what the sender says: the first MiB
 * is allocated when it is read, the whole message once more than that has arrived (one copy of that MiB), so a prefix
 * sent alone holds 1 MiB, not 32.
 */

/** What a length prefix alone may allocate (besides the message's 5-byte frame header). */
const FIRST_BYTES = 1024 * 1024

const NO_DATA = 0
const READING_SIZE = 1
const READING_MESSAGE = 2

/** The fields of grpc-js's StreamDecoder that its `write` uses (the constructor sets them). */
interface DecoderState {
  readonly maxReadMessageLength: number
  readState: number
  readCompressFlag: Buffer
  readPartialSize: Buffer
  readSizeRemaining: number
  readMessageSize: number
  readMessageRemaining: number
  readPartialMessage: Array<Buffer>
  /** Added here: the framed message being filled, and how much of it is. */
  incrementalMessage?: Buffer | undefined
  incrementalFilled?: number
}

function incrementalWrite(this: DecoderState, data: Buffer): Array<Buffer> {
  const result: Array<Buffer> = []
  let readHead = 0
  while (readHead < data.length) {
    if (this.readState === NO_DATA) {
      this.readCompressFlag = data.subarray(readHead, readHead + 1)
      readHead += 1
      this.readState = READING_SIZE
      this.readPartialSize.fill(0)
      this.readSizeRemaining = 4
      this.readMessageSize = 0
      this.readMessageRemaining = 0
      this.incrementalMessage = undefined
    } else if (this.readState === READING_SIZE) {
      const toRead = Math.min(data.length - readHead, this.readSizeRemaining)
      data.copy(this.readPartialSize, 4 - this.readSizeRemaining, readHead, readHead + toRead)
      this.readSizeRemaining -= toRead
      readHead += toRead
      if (this.readSizeRemaining > 0) continue
      this.readMessageSize = this.readPartialSize.readUInt32BE(0)
      if (this.maxReadMessageLength !== -1 && this.readMessageSize > this.maxReadMessageLength) {
        // grpc-js's own words: its server answers RESOURCE_EXHAUSTED with them.
        throw new Error(`Received message larger than max (${this.readMessageSize} vs ${this.maxReadMessageLength})`)
      }
      const framed = Buffer.allocUnsafe(Math.min(this.readMessageSize, FIRST_BYTES) + 5)
      framed[0] = this.readCompressFlag[0]!
      this.readPartialSize.copy(framed, 1)
      this.readMessageRemaining = this.readMessageSize
      if (this.readMessageRemaining === 0) {
        this.readState = NO_DATA
        result.push(framed)
      } else {
        this.incrementalMessage = framed
        this.incrementalFilled = 5
        this.readState = READING_MESSAGE
      }
    } else if (this.readState === READING_MESSAGE) {
      let framed = this.incrementalMessage!
      const toRead = Math.min(data.length - readHead, this.readMessageRemaining)
      if (framed.length < (this.incrementalFilled ?? 5) + toRead) {
        // More than the first MiB has come: the whole message now, what has arrived copied over once.
        const whole = Buffer.allocUnsafe(this.readMessageSize + 5)
        framed.copy(whole, 0, 0, this.incrementalFilled)
        framed = whole
        this.incrementalMessage = whole
      }
      data.copy(framed, this.incrementalFilled, readHead, readHead + toRead)
      this.incrementalFilled = (this.incrementalFilled ?? 5) + toRead
      this.readMessageRemaining -= toRead
      readHead += toRead
      if (this.readMessageRemaining === 0) {
        this.incrementalMessage = undefined
        this.readState = NO_DATA
        result.push(framed)
      }
    } else {
      throw new Error("Unexpected read state")
    }
  }
  return result
}

interface StreamDecoderClass {
  new (maxReadMessageLength: number): DecoderState & { write: (data: Buffer) => Array<Buffer> }
  prototype: { write: (data: Buffer) => Array<Buffer> }
}

const streamDecoderClass = (): StreamDecoderClass | undefined => {
  try {
    const module = createRequire(import.meta.url)("@grpc/grpc-js/build/src/stream-decoder.js") as {
      readonly StreamDecoder?: StreamDecoderClass
    }
    return module.StreamDecoder
  } catch {
    return undefined
  }
}

/**
 * Puts the incremental copy in place of grpc-js's join, for every server and client of this process (idempotent).
 * Returns whether it is in place: false when grpc-js's decoder is not the one this was written against (its states
 * and fields are checked on a fresh decoder), in which case grpc-js's own stays.
 */
export const installIncrementalReceive = (): boolean => {
  const StreamDecoder = streamDecoderClass()
  if (StreamDecoder === undefined) return false
  if (StreamDecoder.prototype.write === incrementalWrite) return true
  const probe = new StreamDecoder(-1)
  const known =
    probe.readState === NO_DATA &&
    Buffer.isBuffer(probe.readPartialSize) &&
    probe.readPartialSize.length === 4 &&
    Array.isArray(probe.readPartialMessage) &&
    probe.maxReadMessageLength === -1
  if (!known) return false
  StreamDecoder.prototype.write = incrementalWrite
  return true
}

/** grpc-js's decoder class (the installed write or its own), for tests. */
export const grpcStreamDecoder = streamDecoderClass
