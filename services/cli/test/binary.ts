import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import sharp from "sharp"

export const bin = join(import.meta.dirname, "../bin/stagebeam.js")

export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The environment without FORCE_COLOR: Nx sets it for the tasks it runs, which would colour the help and version
 * text (and NO_COLOR beside it makes Node warn on stderr).
 */
export const plainEnvironment = (): NodeJS.ProcessEnv => {
  const { FORCE_COLOR: _, ...rest } = process.env
  return rest
}

/** Runs the real `stagebeam` binary (Node 24 from the project) with the arguments and standard input given. */
export const stagebeam = (
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string | Buffer; readonly env?: Record<string, string> } = {},
) =>
  Effect.promise(
    () =>
      new Promise<Ran>((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], {
          env: { ...plainEnvironment(), STAGEBEAM_TOKEN: "", ...options.env },
          stdio: ["pipe", "pipe", "pipe"],
        })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (chunk) => {
          stdout += chunk
        })
        child.stderr.on("data", (chunk) => {
          stderr += chunk
        })
        child.on("close", (code) => resolve({ code, stdout, stderr }))
        child.stdin.end(options.stdin ?? "")
      }),
  )

/** A small real PNG file, and its bytes. */
export const pngFile = Effect.promise(async () => {
  const bytes = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#00aa00" } })
    .png()
    .toBuffer()
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-cli-")), "image.png")
  writeFileSync(path, bytes)
  return { path, bytes }
})

/** A stack trace's frames, which no user error may print. */
export const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)$/m
