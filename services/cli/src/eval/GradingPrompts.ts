// VLMEvalKit's grading prompts, byte for byte as at open-compass/VLMEvalKit@7de2dcbc (see Vlmeval.ts):
// vlmeval/dataset/utils/multiple_choice.py build_prompt / build_prompt_cn, vlmeval/smp/vlm.py build_option_str,
// vlmeval/dataset/utils/yorn.py YOrN_match_prompt, mmvet.py build_mmvet_gpt4_prompt, mathvista.py
// build_mathvista_gpt4_prompt (its "Model respone: " spelling and the missing newline before "Extracted answer:"
// included).
import type { Choices } from "./Matching.ts"

/** build_option_str. */
export const optionString = (choices: Choices): string =>
  `There are several options: \n${Object.entries(choices)
    .map(([letter, text]) => `${letter}. ${text}\n`)
    .join("")}`

/** cn_string: the question holds a CJK ideograph. */
const isChinese = (text: string) => /[\u4e00-\u9fff]/.test(text)

/** The multiple-choice extraction prompt (extract_answer_from_item). */
export const choiceExtractionPrompt = (question: string, choices: Choices, prediction: string): string =>
  isChinese(question)
    ? "你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。" +
      "你会被提供：一个问题，多个选项，一个答案。你的任务是找到与答案意义最相近的选项。" +
      "如果所有选项的意义都与答案显著不同，则输出 Z。" +
      "你应该输出一个单个的大写字母，例如 A, B, C, D（如果它们是有效选项），或 Z。" +
      "例 1:" +
      "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 一只可爱的泰迪熊\n输出: A\n" +
      "例 2: \n" +
      "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 蜘蛛\n输出: Z\n" +
      "例 3: \n" +
      `问题: ${question}?\n选项: ${optionString(choices)}\n答案: ${prediction}\n输出: `
    : "You are an AI assistant who will help me to match " +
      "an answer with several options of a single-choice question. " +
      "You are provided with a question, several options, and an answer, " +
      "and you need to find which option is most similar to the answer. " +
      "If the meaning of all options are significantly different from the answer, output Z. " +
      "Your should output a single uppercase character in A, B, C, D (if they are valid options), and Z. \n" +
      "Example 1: \n" +
      "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n" +
      "Answer: a cute teddy bear\nYour output: A\n" +
      "Example 2: \n" +
      "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n" +
      "Answer: Spider\nYour output: Z\n" +
      "Example 3: \n" +
      `Question: ${question}?\nOptions: ${optionString(choices)}\nAnswer: ${prediction}\nYour output: `

/** YOrN_match_prompt. */
export const yesNoPrompt = (question: string, prediction: string): string =>
  "You are an AI assistant who will help me to match an answer with two options of a question. " +
  "The options are only Yes / No. " +
  "You are provided with a question and an answer, " +
  "and you need to find which option (Yes / No) is most similar to the answer. " +
  "If the meaning of all options are significantly different from the answer, output Unknown. " +
  "Your should output a single word among the following 3 choices: Yes, No, Unknown.\n" +
  "Example 1: \n" +
  "Question: Is the word in this image 'Hello'?\nAnswer: The word in this image is 'Hello'.\nYour output: Yes\n" +
  "Example 2: \n" +
  "Question: Is the word in this image 'Hello'?\n" +
  "Answer: The word in this image is not 'Hello'.\nYour output: No\n" +
  "Example 3: \n" +
  `Question: ${question}?\nAnswer: ${prediction}\nYour output: `

const MMVET_PROMPT = `
Compare the ground truth and prediction from AI models, to give a correctness score for the prediction.
<AND> in the ground truth means it is totally right
only when all elements in the ground truth are present in the prediction,
and <OR> means it is totally right when any one element in the ground truth is present in the prediction.
The correctness score is 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right).
Just complete the last space of the correctness score.

Question | Ground truth | Prediction | Correctness
--- | --- | --- | ---
What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries
Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes,
while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues
because the names of these countries do not accurately represent their landscapes. |
The meme talks about Iceland and Greenland. It's pointing out that despite their names,
Iceland is not very icy and Greenland isn't very green. | 0.4
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries
Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes,
while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues
because the names of these countries do not accurately represent their landscapes. |
The meme is using humor to point out the misleading nature of Iceland's and Greenland's names.
Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow.
The text 'This is why I have trust issues' is a playful way to suggest
that these contradictions can lead to distrust or confusion.
The humor in this meme is derived from the unexpected contrast between the names of the countries
and their actual physical characteristics. | 1.0
`

/** build_mmvet_gpt4_prompt. */
export const mmvetPrompt = (question: string, groundTruth: string, prediction: string): string =>
  `${MMVET_PROMPT}\n${[question, groundTruth.replaceAll("<AND>", " <AND> ").replaceAll("<OR>", " <OR> "), prediction, ""].join(" | ")}`

const MATHVISTA_EXAMPLES = [
  `
Hint: Please answer the question requiring an integer answer and provide the final value,
e.g., 1, 2, 3, at the end.\n
Question: Which number is missing?\n
Model response: The number missing in the sequence is 14.\n
Extracted answer: 14
`,
  `
Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value,
e.g., 1.2, 1.3, 1.4, at the end.\n
Question: What is the fraction of females facing the camera?\n
Model response: The fraction of females facing the camera is 0.6,
which means that six out of ten females in the group are facing the camera.\n
Extracted answer: 0.6
`,
  `
Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value,
e.g., 1.23, 1.34, 1.45, at the end.\n
Question: How much money does Luca need to buy a sour apple candy and a butter-scotch candy? (Unit: $)\n
Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.\n
Extracted answer: 1.45
`,
  `
Hint: Please answer the question requiring a Python list as an answer and provide the final list,
e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.\n
Question: Between which two years does the line graph saw its maximum peak?\n
Model response: The line graph saw its maximum peak between 2007 and 2008.\n
Extracted answer: [2007, 2008]
`,
  `
Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n
Question: What fraction of the shape is blue?\n
Choices: (A) 3/11 (B) 8/11 (C) 6/11 (D) 3/5\n
Model response: The correct answer is (B) 8/11.\n
Extracted answer: B
`,
]

/** build_mathvista_gpt4_prompt (the TSV's question already holds the hint and the choices). */
export const mathvistaPrompt = (question: string, prediction: string): string =>
  `
Please read the following example.
Then extract the answer from the model response and type it at the end of the prompt.\n
${MATHVISTA_EXAMPLES.map((example) => `${example}\n`).join("")}${question}\nModel respone: ${prediction}Extracted answer:`
