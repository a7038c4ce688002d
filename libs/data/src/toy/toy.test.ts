import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { checkAnswer } from '../answer/check-answer.js';
import { extractionValue, extractStrict } from '../answer/extract.js';
import { partitionLabeled } from '../datasets/partition.js';
import { formatSftExample, renderJudgePrompt } from '../prompts/templates.js';
import { generateToyProblems, type ToyDifficulty } from './generator.js';
import { TOY_SCENARIOS } from './scenarios.js';
import { buildToyTokenizerConfig, buildToyVocab, writeToyTokenizer } from './tokenizer.js';
import { generateVerifierData, TOY_ERROR_KINDS, toJudgeExample } from './verifier-data.js';

const idProblems = generateToyProblems(600, { seed: 11, split: 'id' });
const oodProblems = generateToyProblems(300, { seed: 11, split: 'ood' });

test('toy problems are deterministic by seed and prefix-stable', () => {
  assert.deepEqual(generateToyProblems(50, { seed: 11, split: 'id' }), idProblems.slice(0, 50));
  assert.notDeepEqual(
    generateToyProblems(50, { seed: 12, split: 'id' }).map((p) => p.question),
    idProblems.slice(0, 50).map((p) => p.question),
  );
});

test('difficulty sets the number of operations; chains stay positive; solutions end in #### answer', () => {
  for (const d of [1, 2, 3, 4] as ToyDifficulty[]) {
    for (const p of generateToyProblems(100, { seed: 5, difficulty: d })) {
      assert.equal(p.spec.steps.length, d);
      assert.equal(p.solution?.split('\n').length, d + 1);
    }
  }
  for (const p of [...idProblems, ...oodProblems]) {
    assert.ok(Number.isInteger(p.answer) && (p.answer ?? 0) >= 2, `${p.id}: ${p.answer}`);
    assert.ok(p.spec.steps.every((s) => Number.isInteger(s.after) && s.after >= 2));
    assert.equal(extractionValue(extractStrict(p.solution ?? '')), p.answer);
    assert.ok(checkAnswer(p.solution ?? '', p.answer, 'flexible'));
  }
  const mixed = new Set(idProblems.map((p) => p.spec.difficulty));
  assert.equal(mixed.size, 4);
  const ops = new Set(idProblems.flatMap((p) => p.spec.steps.map((s) => s.op)));
  assert.deepEqual([...ops].sort(), ['add', 'div', 'mul', 'sub']);
});

test('held-out scenarios appear only out of domain, and every scenario is used', () => {
  const heldOut = new Set(TOY_SCENARIOS.filter((s) => s.heldOut).map((s) => s.name));
  assert.ok(heldOut.size >= 2);
  assert.ok(idProblems.every((p) => !heldOut.has(p.spec.scenario)));
  assert.ok(oodProblems.every((p) => heldOut.has(p.spec.scenario)));
  assert.equal(new Set(idProblems.map((p) => p.spec.scenario)).size, TOY_SCENARIOS.length - heldOut.size);
  assert.equal(new Set(oodProblems.map((p) => p.spec.scenario)).size, heldOut.size);
});

test('verifier data: correct solutions pass the checker, wrong ones fail it, all kinds occur', () => {
  const data = generateVerifierData(idProblems, { seed: 3, wrongPerProblem: 2 });
  const wrong = data.filter((e) => !e.label);
  assert.equal(data.length - wrong.length, idProblems.length);
  assert.ok(wrong.length > 1.9 * idProblems.length, `${wrong.length} wrong`);
  for (const e of data) {
    assert.equal(
      checkAnswer(e.solution, e.gold, 'strict'),
      e.label,
      `${e.problemId} ${e.errorKind}\n${e.solution}`,
    );
  }
  const kinds = new Map<string, number>();
  for (const e of wrong) kinds.set(e.errorKind ?? '', (kinds.get(e.errorKind ?? '') ?? 0) + 1);
  assert.deepEqual([...kinds.keys()].sort(), [...TOY_ERROR_KINDS].sort());
  console.log(
    `verifier data: ${data.length} examples, wrong by kind ${JSON.stringify(Object.fromEntries(kinds))}`,
  );
  assert.deepEqual(
    generateVerifierData(idProblems.slice(0, 20), { seed: 3 }),
    generateVerifierData(idProblems.slice(0, 20), { seed: 3 }),
  );
  const j = toJudgeExample(wrong[0]!);
  assert.equal(j.target, ' No');
  assert.ok(j.prompt.endsWith('Answer Yes or No.\nAnswer:'));
});

test('the toy tokenizer.json loads in @huggingface/tokenizers and round-trips every text without <unk>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-toy-tok-'));
  const path = writeToyTokenizer(dir);
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const config: unknown = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.deepEqual(config, buildToyTokenizerConfig());
  const tok = new Tokenizer(json as object, config as object);
  const unk = tok.token_to_id('<unk>');
  assert.equal(unk, 3);
  assert.deepEqual(
    ['<pad>', '<s>', '</s>', '<unk>'].map((t) => tok.token_to_id(t)),
    [0, 1, 2, 3],
  );
  for (const word of [' Yes', ' No', 'Yes', 'No']) {
    const ids = tok.encode(word, { add_special_tokens: false }).ids;
    assert.equal(ids.length, 1, word);
    assert.notEqual(ids[0], unk);
  }
  const verifier = generateVerifierData([...idProblems, ...oodProblems], { seed: 9 });
  const texts: string[] = [];
  for (const p of [...idProblems, ...oodProblems]) {
    const sft = formatSftExample({ question: p.question, solution: p.solution ?? '' });
    texts.push(sft.prompt.kind === 'plain' ? sft.prompt.text + sft.completion : '');
  }
  for (const e of verifier) texts.push(toJudgeExample(e).prompt + toJudgeExample(e).target);
  texts.push(renderJudgePrompt(idProblems[0]!.question, idProblems[0]!.solution ?? '').text);
  let tokens = 0;
  for (const text of texts) {
    const enc = tok.encode(text);
    assert.equal(enc.ids[0], 1, 'starts with <s>');
    assert.ok(!enc.ids.includes(unk!), `unknown token in ${JSON.stringify(text)}: ${enc.tokens.join('|')}`);
    assert.equal(tok.decode(enc.ids, { skip_special_tokens: true }), text);
    tokens += enc.ids.length;
  }
  // Digits are split one per token.
  assert.deepEqual(tok.encode(' 745', { add_special_tokens: false }).tokens, [' 7', '4', '5']);
  console.log(
    `toy tokenizer: vocab ${buildToyVocab().size}; ${texts.length} texts, ${tokens} tokens, mean ${(tokens / texts.length).toFixed(1)}`,
  );
});

test('unlabeled toy problems lose the spec (which holds the answer) along with answer and solution', () => {
  const { unlabeled } = partitionLabeled(idProblems.slice(0, 50), { labeledRatio: 0.5, seed: 1 });
  for (const u of unlabeled) {
    assert.deepEqual(Object.keys(u).sort(), ['id', 'meta', 'question', 'source']);
    assert.ok(!JSON.stringify(u).includes('####'));
  }
});
