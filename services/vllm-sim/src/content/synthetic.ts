// A synthetic multiple-choice evaluation set. The answer of each item is the one every simulator derives from the
// question's options (truthFor), so a benchmark can score any search strategy against any simulator instance.
import { makeRng } from "../random.ts"
import { parseQuestion, truthFor } from "./question.ts"

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

/** `count` deterministic multiple-choice items (four options each) for a given seed. */
export const syntheticQuestions = (count: number, seed: number): Array<SyntheticQuestion> => {
  const rng = makeRng(`synthetic:${seed}`)
  const out: Array<SyntheticQuestion> = []
  for (let i = 0; i < count; i++) {
    const template = rng.pick(templates)
    const stem = template.stem(rng.pick)
    const pool = [...template.pool]
    const options = letters.slice(0, 4).map((letter) => {
      const text = pool.splice(rng.int(pool.length), 1)[0]!
      return { letter, text: text.charAt(0).toUpperCase() + text.slice(1) }
    })
    const question = `${stem}\n${options.map((o) => `${o.letter}. ${o.text}`).join("\n")}`
    const answer = truthFor(options)!
    // The set must agree with what the simulator reads from the text.
    if (parseQuestion(question).truth !== answer) throw new Error(`synthetic question ${i} does not round-trip`)
    out.push({ id: `syn-${seed}-${i}`, question, options, answer })
  }
  return out
}
