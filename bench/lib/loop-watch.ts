// Preloaded into a gateway process by bench/hostile.ts (NODE_OPTIONS=--import): the longest the event loop held a
// 5 ms interval timer back, in ms, written to LOOP_WATCH_FILE at every new longest. SIGUSR2 starts it over (the bench
// sends it once the warm-up is done). A finer reading than the gateway's own gauge, whose 50 ms sampling reads a hold
// of B ms as anything from B − 50 to B (before 2c0558f: 20 ms sampling, read as B to B + 20).
import { writeFileSync } from "node:fs"

const TICK_MS = 5
const file = process.env.LOOP_WATCH_FILE
if (file !== undefined) {
  let last = performance.now()
  let longest = 0
  writeFileSync(file, "0")
  setInterval(() => {
    const now = performance.now()
    const held = now - last - TICK_MS
    last = now
    if (held > longest) {
      longest = held
      writeFileSync(file, longest.toFixed(1))
    }
  }, TICK_MS).unref()
  process.on("SIGUSR2", () => {
    longest = 0
    last = performance.now()
    writeFileSync(file, "0")
  })
}
