import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createLlamaModel,
  findYesNoTokenIds,
  isModelError,
  judge,
  loadModelTokenizer,
  locateSharedDir,
  renderJudgePrompt,
  resolveJudgeTemplate,
} from '../src/index.js';
import { qwen3ToyModelParts, storiesDir } from './helpers.js';

describe('judge prompt and verdict tokens', () => {
  const qwen = loadModelTokenizer(join(locateSharedDir(), 'tokenizers', 'qwen3'));

  it('plain template ends in "Answer:" and uses the leading-space tokens', () => {
    const text = renderJudgePrompt(qwen, 'What is 2+2?', '4', 'plain');
    assert.equal(
      text,
      'Question: What is 2+2?\nSolution: 4\nIs this solution correct? Answer Yes or No.\nAnswer:',
    );
    assert.deepEqual(findYesNoTokenIds(qwen, 'plain'), {
      yesId: qwen.tokenToId('ĠYes'),
      noId: qwen.tokenToId('ĠNo'),
    });
  });

  it('auto picks the chat template (thinking off) and the bare tokens for a chat model', () => {
    assert.equal(resolveJudgeTemplate(qwen, 'auto'), 'chat');
    const text = renderJudgePrompt(qwen, 'Q?', 'A', 'chat');
    assert.ok(text.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    assert.deepEqual(findYesNoTokenIds(qwen, 'chat'), { yesId: 9454, noId: 2753 });
  });

  it('a vocabulary without one token for " Yes" is an error, not a guess', () => {
    const stories = loadModelTokenizer(storiesDir());
    assert.equal(resolveJudgeTemplate(stories, 'auto'), 'plain');
    assert.throws(
      () => findYesNoTokenIds(stories, 'plain'),
      (e) => isModelError(e) && e.code === 'INVALID_TOKENIZER' && /" Yes"/.test(e.message),
    );
    assert.throws(() => resolveJudgeTemplate(stories, 'chat'), /needs a tokenizer with a chat_template/);
  });
});

describe('judge input limits', () => {
  const { config, weights, tokenizer } = qwen3ToyModelParts();
  const model = createLlamaModel(config, weights, tokenizer);
  after(() => model.close());

  it('a judge prompt longer than max positions is one clear error', async () => {
    await assert.rejects(
      judge(model, [{ question: 'word '.repeat(100), answer: '1' }]),
      (e) =>
        isModelError(e) &&
        /judge prompt 0 has \d+ tokens, more than the model's max_position_embeddings \(64\)/.test(e.message),
    );
  });
});
