import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  CHAT_TEMPLATE,
  fillTemplate,
  formatSftExample,
  getPromptTemplate,
  JUDGE_TEMPLATE,
  PLAIN_TEMPLATE,
  renderJudgePrompt,
  renderStudentPrompt,
  templateVersion,
} from './templates.js';

test('versions are the first 12 hex of sha256 over the template text', () => {
  const expected = createHash('sha256').update(PLAIN_TEMPLATE.text).digest('hex').slice(0, 12);
  assert.equal(PLAIN_TEMPLATE.version, expected);
  assert.match(JUDGE_TEMPLATE.version, /^[0-9a-f]{12}$/);
  assert.equal(CHAT_TEMPLATE.version, templateVersion(JSON.stringify(CHAT_TEMPLATE.messages)));
  assert.equal(new Set([PLAIN_TEMPLATE.version, CHAT_TEMPLATE.version, JUDGE_TEMPLATE.version]).size, 3);
  assert.notEqual(
    templateVersion('Question: {question}\nAnswer:'),
    templateVersion('Question: {question}\nAnswer: '),
  );
});

test('plain, chat and judge prompts render as documented', () => {
  const p = renderStudentPrompt('What is 2+2?');
  assert.deepEqual(p, {
    kind: 'plain',
    text: 'Question: What is 2+2?\nAnswer:',
    template: 'plain',
    version: PLAIN_TEMPLATE.version,
  });
  const c = renderStudentPrompt('What is 2+2?', getPromptTemplate('chat'));
  assert.equal(c.kind, 'chat');
  assert.equal(c.kind === 'chat' ? c.messages[1]?.content : '', 'What is 2+2?');
  const j = renderJudgePrompt('What is 2+2?', '2+2=4\n#### 4');
  assert.equal(
    j.text,
    'Question: What is 2+2?\nSolution: 2+2=4\n#### 4\nIs this solution correct? Answer Yes or No.\nAnswer:',
  );
  assert.equal(j.version, JUDGE_TEMPLATE.version);
  assert.equal(formatSftExample({ question: 'q', solution: '#### 1' }).completion, ' #### 1');
  assert.throws(() => getPromptTemplate('nope'), /known: plain, chat, judge/);
});

test('placeholders are filled in one pass; $ patterns and braces in values stay literal', () => {
  assert.equal(
    fillTemplate('{question}|{solution}', { question: '{solution} $& $1', solution: 's' }),
    '{solution} $& $1|s',
  );
  assert.throws(() => fillTemplate('{solution}', { question: 'q' }), /needs \{solution\}/);
});
