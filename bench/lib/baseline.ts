// Another checkout's gateway beside this one's, in the same run: a baseline a figure can be a ratio against.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, symlinkSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/**
 * The sources of `given`: a directory as it is, or a commit unpacked with `git archive` under tmp/<label>-<commit>,
 * its workspace packages linked to its own sources (this checkout's node_modules links to this checkout's); the
 * rest of its dependencies resolves upward, to this checkout's node_modules.
 */
export const baselineCheckout = (given: string, label: string): string => {
  if (existsSync(given)) return given
  const dir = join(repo, "tmp", `${label}-${given}`)
  if (!existsSync(join(dir, "package.json"))) {
    mkdirSync(dir, { recursive: true })
    execFileSync("sh", ["-c", `git -C "${repo}" archive "${given}" | tar -x -C "${dir}"`])
  }
  const links = join(dir, "node_modules", "@stagebeam")
  mkdirSync(links, { recursive: true })
  for (const [name, path] of [
    ["cot", "libs/cot"],
    ["fleet", "libs/fleet"],
    ["grpc", "libs/grpc"],
    ["judge", "libs/judge"],
    ["proto", "libs/proto"],
    ["search", "libs/search"],
    ["gateway", "services/gateway"],
    ["vllm-sim", "services/vllm-sim"],
  ] as const) {
    if (!existsSync(join(links, name))) symlinkSync(join("..", "..", path), join(links, name))
  }
  return dir
}
