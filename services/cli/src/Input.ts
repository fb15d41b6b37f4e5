import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import { CliFailure, EXIT, invalidInput } from "./ExitCodes.ts"

/** All of standard input, once (both `-q -` and `-i -` cannot read it). */
const readStdin = Effect.tryPromise({
  try: async () => {
    const chunks: Array<Buffer> = []
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks)
  },
  catch: () => invalidInput("cannot read standard input"),
})

const errorText = (error: unknown) =>
  error instanceof Error && "code" in error && error.code === "ENOENT"
    ? "no such file"
    : error instanceof Error && "code" in error && error.code === "EISDIR"
      ? "is a directory"
      : error instanceof Error
        ? error.message
        : String(error)

/** A file's bytes; a file that cannot be read is the user's mistake, reported without a stack trace. */
export const readInputFile = (path: string, what: string) =>
  Effect.tryPromise({
    try: () => readFile(path),
    catch: (error) => invalidInput(`cannot read the ${what} ${path}: ${errorText(error)}`),
  })

/** The question: the text given, or standard input for "-". */
export const questionFrom = (question: string) =>
  question === "-" ? Effect.map(readStdin, (bytes) => bytes.toString("utf8").trim()) : Effect.succeed(question)

/** The image: standard input for "-", an http(s)/data: URL the gateway fetches, or a file. */
export const imageFrom = (image: string) => {
  if (image === "-") return Effect.map(readStdin, (data) => ({ image: { data } }))
  if (/^(https?:|data:)/.test(image)) return Effect.succeed({ image: { url: image } })
  return Effect.map(readInputFile(image, "image"), (data) => ({ image: { data } }))
}

/** Refuses `-q -` together with `-i -`: standard input holds one of them. */
export const checkStdinOnce = (question: string, image: string | undefined) =>
  question === "-" && image === "-"
    ? Effect.fail(
        new CliFailure({
          message: "-q - and -i - both read standard input; give one of them a file or text",
          exitCode: EXIT.usage,
        }),
      )
    : Effect.void
