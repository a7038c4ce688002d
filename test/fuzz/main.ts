// `npm run fuzz`: the long protocol fuzz (README: "Protocol fuzzing"). Exit 1 when a case fails.
//   npm run fuzz                                     10,000 cases per method, seed 1
//   npm run fuzz -- --cases 500 --seed 7             fewer cases, another seed
//   npm run fuzz -- --only JudgeBatch                methods whose id contains the text
//   npm run fuzz -- --seed 7 --method ID --case 123  replay one case (printed with each failure)
//   npm run fuzz -- --lanes 4                        four methods at a time
//   npm run fuzz -- --verbose                        also one status text per status and method
import { parseArgs } from 'node:util';
import { formatReport, runFuzz } from './fuzz-run.js';
import { startFuzzStack } from './fuzz-stack.js';
import { loadSchema } from './schema.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: process.env['FUZZ_CASES'] ?? '10000' },
    seed: { type: 'string', default: process.env['FUZZ_SEED'] ?? '1' },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    lanes: { type: 'string', default: process.env['FUZZ_LANES'] ?? '1' },
    method: { type: 'string' },
    case: { type: 'string' },
    'deadline-ms': { type: 'string', default: '3000' },
    'rss-bound-mb': { type: 'string', default: '256' },
  },
});

function int(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`fuzz: --${name} must be a non-negative integer (got ${text})`);
    process.exit(2);
  }
  return n;
}

if ((values.method === undefined) !== (values.case === undefined)) {
  console.error('fuzz: --method and --case go together (replay one case)');
  process.exit(2);
}

const schema = loadSchema();
const stack = await startFuzzStack();
let failed = 1;
try {
  const report = await runFuzz(schema, stack.addresses, {
    seed: int('seed', values.seed),
    casesPerMethod: int('cases', values.cases),
    ...(values.only !== undefined ? { methodFilter: values.only } : {}),
    ...(values.method !== undefined
      ? { only: { method: values.method, index: int('case', values.case) } }
      : {}),
    deadlineMs: int('deadline-ms', values['deadline-ms']),
    rssBoundMb: int('rss-bound-mb', values['rss-bound-mb']),
    lanes: int('lanes', values.lanes),
    log: (line) => console.log(line),
  });
  for (const line of formatReport(report, values.verbose)) console.log(line);
  failed = report.failed;
} finally {
  await stack.stop();
}
process.exit(failed > 0 ? 1 : 0);
