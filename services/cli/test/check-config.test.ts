import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { STACK_FRAME, stagebeam } from "./binary.ts"

const settingsFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-check-")), "stagebeam.yaml")
  writeFileSync(path, text)
  return path
}

describe("stagebeam check-config", () => {
  it.effect(
    "a good file: exit 0 and the resolved settings, redacted; an unknown key at any depth: exit 3, its path and the nearest key",
    () =>
      Effect.gen(function* () {
        const good = settingsFile(
          "pools:\n  generator:\n    endpoints: [http://gpu-1:8000]\ntracing:\n  endpoint: http://otel:4318/?token=sk-1\n",
        )
        const ok = yield* stagebeam(["check-config", good])
        assert.strictEqual(ok.code, 0, ok.stderr)
        assert.include(ok.stdout, "- http://gpu-1:8000")
        assert.include(ok.stdout, "drainTimeout: 50s")
        assert.notInclude(ok.stdout, "sk-1")

        const typo = settingsFile(
          "pools:\n  generator:\n    endpoints: [http://gpu-1:8000]\n    discovery: { dns: vllm:8000, intervall: 5s }\n",
        )
        const bad = yield* stagebeam(["check-config", typo])
        assert.strictEqual(bad.code, 3)
        assert.include(
          bad.stderr,
          `pools.generator.discovery.intervall (in ${typo}): unknown key (did you mean "interval"?)`,
        )
        assert.notMatch(bad.stderr, STACK_FRAME)
        assert.strictEqual(bad.stdout, "")
      }),
    60_000,
  )
})
