// A synthetic multiple-choice evaluation set. The answer of each item is the one every simulator derives from the
// question's options (truthFor), so a benchmark can score any search strategy against any simulator instance. A set
// may be harder or easier than the questions at large (a benchmark is a selection of questions): `difficultyShift`
// tilts the questions' difficulty (quality.ts) by that many standard deviations.
import { makeRng } from "../random.ts"
import { difficulty } from "./quality.ts"
import { parseQuestion } from "./question.ts"
import { truthFor } from "./truth.ts"

export interface SyntheticQuestion {
  readonly id: string
  /** Question text including its options, one per line: "A. ...\nB. ...". */
  readonly question: string
  readonly options: ReadonlyArray<{ readonly letter: string; readonly text: string }>
  /** The correct option letter. */
  readonly answer: string
}

const colours = ["red", "blue", "green", "yellow", "white", "black", "orange", "purple", "brown", "grey"]
const objects = [
  "umbrella",
  "bicycle",
  "kite",
  "backpack",
  "bus",
  "car",
  "boat",
  "chair",
  "sign",
  "cup",
  "clock",
  "dog",
]
const places = [
  "on the left",
  "in the foreground",
  "near the window",
  "on the table",
  "by the road",
  "in the background",
]
const people = ["the woman", "the man", "the child", "the player", "the chef", "the cyclist"]
const animals = ["cat", "dog", "horse", "cow", "sheep", "bird", "elephant", "giraffe", "zebra", "bear"]
const weather = ["sunny", "rainy", "snowy", "foggy", "cloudy", "stormy"]
const rooms = ["kitchen", "living room", "bathroom", "office", "classroom", "bedroom", "garage"]
const counts = ["1", "2", "3", "4", "5", "6", "7", "8"]
const shapes = ["circle", "square", "triangle", "star", "hexagon", "arrow"]

interface Template {
  readonly stem: (pick: <A>(xs: ReadonlyArray<A>) => A) => string
  readonly pool: ReadonlyArray<string>
}

const templates: ReadonlyArray<Template> = [
  { stem: (p) => `What color is the ${p(objects)} ${p(places)}?`, pool: colours },
  { stem: (p) => `How many ${p(objects)}s are visible ${p(places)}?`, pool: counts },
  { stem: (p) => `What is ${p(people)} holding in the image?`, pool: objects },
  { stem: (p) => `Which animal appears ${p(places)} of the picture?`, pool: animals },
  { stem: () => "What is the weather like in the scene shown in the image?", pool: weather },
  { stem: (p) => `Which room is shown in the image where ${p(people)} is standing?`, pool: rooms },
  { stem: (p) => `What shape is printed on the ${p(objects)} ${p(places)}?`, pool: shapes },
]

const letters = ["A", "B", "C", "D", "E", "F"]

export interface SyntheticSetOptions {
  /** Tilts the set's difficulty: its mean moves by about this many standard deviations (0: none). */
  readonly difficultyShift?: number
}

/** `count` deterministic multiple-choice items (four options each) for a given seed. */
export const syntheticQuestions = (
  count: number,
  seed: number,
  options: SyntheticSetOptions = {},
): Array<SyntheticQuestion> => {
  const shift = options.difficultyShift ?? 0
  const rng = makeRng(`synthetic:${seed}${shift === 0 ? "" : `:${shift}`}`)
  const out: Array<SyntheticQuestion> = []
  for (let i = 0; out.length < count; i++) {
    const template = rng.pick(templates)
    const stem = template.stem(rng.pick)
    const pool = [...template.pool]
    const options = letters.slice(0, 4).map((letter) => {
      const text = pool.splice(rng.int(pool.length), 1)[0]!
      return { letter, text: text.charAt(0).toUpperCase() + text.slice(1) }
    })
    const question = `${stem}\n${options.map((o) => `${o.letter}. ${o.text}`).join("\n")}`
    const parsed = parseQuestion(question)
    // Exponential tilting by rejection: keep a question with probability exp(shift × (z − 4)) (z < 4 in practice).
    if (shift !== 0 && rng.next() >= Math.exp(Math.abs(shift) * (Math.sign(shift) * difficulty(parsed) - 4))) continue
    const answer = truthFor(options)!
    // The set must agree with what the simulator reads from the text.
    if (truthFor(parsed.options) !== answer) throw new Error(`synthetic question ${i} does not round-trip`)
    out.push({ id: `syn-${seed}-${out.length}`, question, options, answer })
  }
  return out
}
