import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToyProblems } from '@verdict/data';
import {
  type ArmComparison,
  type ArmSeedResult,
  type ArmSpec,
  COMPARISON_METHOD,
  checkClaim,
  compareArms,
  compareSeenSlice,
  EXPERIMENT_RESULT_FORMAT,
  type ExperimentConfig,
  type ExperimentResult,
  experimentDesignHash,
  formatExperimentTables,
  prepareToyWorld,
  prepareWeakJudge,
  renderExperimentReport,
  summariseArms,
  type ToyWorld,
  type ToyWorldManifest,
} from '@verdict/recipes';
import { startMessaging } from './messaging.js';
import { runArm } from './run-arm.js';

export interface RunExperimentOptions {
  readonly config: ExperimentConfig;
  readonly arms: readonly ArmSpec[];
  readonly seeds: readonly number[];
  readonly outDir: string;
  readonly cacheDir: string;
  /** A prepared toy world folder (`<cache>/toy/<hash>`) to use as is, instead of the current recipe. */
  readonly toyWorldDir?: string;
  readonly transport: 'auto' | 'memory' | 'nats';
  readonly threads: number;
  readonly logLevel: string;
  readonly progress: (line: string) => void;
}

/** A toy world prepared earlier (its manifest and model folders), used whatever the current recipe is. */
function loadToyWorld(dir: string): ToyWorld {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw Object.assign(new Error(`--toy-world ${dir}: no manifest.json (run verdict toy prepare)`), {
      code: 'NOT_FOUND',
    });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ToyWorldManifest;
  return {
    dir,
    studentDir: join(dir, manifest.models.student.dir),
    judgeDir: join(dir, manifest.models.judge.dir),
    tokenizerDir: join(dir, manifest.models.tokenizer.dir),
    manifest,
    cached: true,
  };
}

export interface ExperimentOutput {
  readonly result: ExperimentResult;
  readonly table: string;
  readonly files: { readonly json: string; readonly html: string; readonly table: string };
  readonly seconds: number;
  readonly transport: string;
}

/**
 * The main job: toy world (cached), then every arm × seed through one messaging backbone and a
 * fresh set of services per arm, then the table, results.json and report.html. The output folder's
 * run state is wiped first, so a rerun with the same seeds recomputes everything from the same start.
 */
export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentOutput> {
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  const say = (line: string) => o.progress(`${elapsed().padStart(6)}  ${line}`);
  const { config } = o;
  for (const sub of ['runs', 'nats', 'evaluator', 'curves', 'results.json', 'report.html', 'table.md'])
    rmSync(join(o.outDir, sub), { recursive: true, force: true });
  mkdirSync(o.outDir, { recursive: true });

  const world =
    o.toyWorldDir !== undefined
      ? loadToyWorld(o.toyWorldDir)
      : await prepareToyWorld({
          cacheDir: o.cacheDir,
          budget: config.toyBudget,
          seed: 0,
          threads: o.threads,
          onProgress: say,
        });
  const wm = world.manifest.metrics;
  say(
    `toy world ${world.manifest.hash}: student ${(100 * wm.student.accuracyId).toFixed(1)}% in-domain, judge AUROC ${wm.judge.auroc.toFixed(3)}`,
  );
  const weak = o.arms.some((a) => a.judge === 'weak')
    ? await prepareWeakJudge(world, config.weakJudge, { seed: 0, threads: o.threads, onProgress: say })
    : undefined;

  const designHash = experimentDesignHash({ config, toyWorldHash: world.manifest.hash, arms: o.arms });
  say(`design ${designHash}: ${o.arms.map((a) => a.id).join(', ')}; seeds ${o.seeds.join(', ')}`);
  const runs: ArmSeedResult[] = [];
  const files = {
    json: join(o.outDir, 'results.json'),
    html: join(o.outDir, 'report.html'),
    table: join(o.outDir, 'table.md'),
  };
  // Paired comparisons already computed (the results are rewritten after every arm).
  const comparisonCache = new Map<string, ArmComparison>();
  /** Writes the results of the runs so far (after every arm, so a long run shows progress on disk). */
  const writeResults = (): { result: ExperimentResult; table: string } => {
    const ran = o.arms.filter((a) => runs.some((r) => r.armId === a.id));
    const summary = summariseArms(ran, runs);
    const comparisons = compareArms(ran, runs, { cache: comparisonCache });
    const result: ExperimentResult = {
      format: EXPERIMENT_RESULT_FORMAT,
      config,
      seeds: o.seeds,
      designHash,
      toyWorld: {
        hash: world.manifest.hash,
        budget: world.manifest.config.budget,
        studentAccuracyId: wm.student.accuracyId,
        judgeAuroc: wm.judge.auroc,
        ...(weak ? { weakJudgeAuroc: weak.aurocCorrectness } : {}),
      },
      arms: o.arms,
      runs,
      summary,
      comparisons,
      seenComparisons: compareSeenSlice(ran, runs, comparisons),
      statistics: COMPARISON_METHOD,
      claim: checkClaim(summary, comparisons),
    };
    const table = formatExperimentTables(result);
    writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(files.html, renderExperimentReport(result));
    writeFileSync(files.table, `${table}\n`);
    return { result, table };
  };
  const messaging = await startMessaging({ transport: o.transport, storeDir: join(o.outDir, 'nats') });
  say(`messaging: ${messaging.transport} (${messaging.url})`);
  // Ctrl-C / SIGTERM: take the nats-server child down with us (services are in this process).
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping`);
    void messaging.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const total = o.seeds.length * o.arms.length;
  try {
    for (const seed of o.seeds) {
      // The shadow slice: held-out labeled problems (their own seed: not training, not the test suites).
      const shadowProblems = generateToyProblems(config.shadow.problems, {
        seed: `shadow:${seed}`,
        split: 'id',
      });
      // The seen slice: the head of the stream every RL arm of this seed trains on (armRunConfig sets
      // dataSeed = seed; the learner's toy source is generateToyProblems(limit, { seed: dataSeed })).
      const seenProblems = generateToyProblems(config.seenProblems, { seed, split: 'id' });
      for (const arm of o.arms) {
        say(`arm ${runs.length + 1}/${total}: ${arm.label}, seed ${seed}`);
        const result = await runArm({
          arm,
          seed,
          config,
          messagingUrl: messaging.url,
          workDir: o.outDir,
          studentDir: world.studentDir,
          judgeDir: arm.judge === 'weak' && weak ? weak.dir : world.judgeDir,
          judgeModelId: arm.judge === 'weak' ? 'toy-judge-weak' : 'toy-judge',
          shadowProblems,
          seenProblems,
          logLevel: o.logLevel,
          progress: say,
        });
        runs.push(result);
        mkdirSync(join(o.outDir, 'curves'), { recursive: true });
        writeFileSync(
          join(o.outDir, 'curves', `${result.runId}.jsonl`),
          `${result.curve.map((p) => JSON.stringify(p)).join('\n')}\n`,
        );
        writeResults();
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await messaging.stop();
  }

  const { result, table } = writeResults();
  return { result, table, files, seconds: (performance.now() - t0) / 1000, transport: messaging.transport };
}
