import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"
import { loadReasonerPackageDefinition, protoRoot, reasonerServiceName } from "../src/index.ts"

const generatedDir = join(import.meta.dirname, "../src/generated")
const repoRoot = join(import.meta.dirname, "../../..")

const listFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })

describe("the public contract", () => {
  it("defines the Reasoner service: Reason, ReasonStream (server-streaming) and ListJudges", () => {
    const definition = loadReasonerPackageDefinition()
    const service = definition[reasonerServiceName] as Record<
      string,
      { requestStream: boolean; responseStream: boolean }
    >
    expect(service.Reason).toMatchObject({ requestStream: false, responseStream: false })
    expect(service.ReasonStream).toMatchObject({ requestStream: false, responseStream: true })
    expect(service.ListJudges).toMatchObject({ requestStream: false, responseStream: false })
  })

  it("keeps the generated types in step with the proto", () => {
    const out = mkdtempSync(join(tmpdir(), "stagebeam-proto-"))
    const script = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).scripts["gen:proto"] as string
    const args = script
      .split(" ")
      .slice(1)
      .map((arg) => (arg === "libs/proto/src/generated" ? out : arg))
    execFileSync(join(repoRoot, "node_modules/.bin/proto-loader-gen-types"), args, { cwd: repoRoot })
    const committed = listFiles(generatedDir).map((file) => relative(generatedDir, file))
    const fresh = listFiles(out).map((file) => relative(out, file))
    expect(fresh.sort()).toEqual(committed.sort())
    for (const file of committed) {
      expect(readFileSync(join(out, file), "utf8"), file).toBe(readFileSync(join(generatedDir, file), "utf8"))
    }
    expect(protoRoot).toContain("proto")
  })
})
