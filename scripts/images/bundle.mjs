#!/usr/bin/env node
// Bundles each service's src/main.ts, the verdict CLI and the ORT session worker into single ESM
// files with esbuild (the copy tsx brings), so a container runs plain `node /app/<svc>.mjs` with
// no tsx and no workspace node_modules. Usable outside containers too:
//   node scripts/images/bundle.mjs [--out DIR]        (default .verdict/images/bundle)
// then e.g. `JUDGE_MODEL_DIR=... node DIR/judge-server.mjs`.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICES = ['policy-server', 'judge-server', 'reward-service', 'learner', 'evaluator'];

/**
 * Kept out of the bundle and installed in /app/node_modules instead:
 * - onnxruntime-node: loads its native binding (and libonnxruntime.so, CUDA providers) from its
 *   own bin/ folder by relative path.
 * Everything else is pure JS and bundles: @grpc/grpc-js, @nats-io/*, protobufjs (onnx-proto; its
 * optional `inquire` lookups fail soft), OpenTelemetry (the runtime traces gRPC by hand, there is
 * no import-in-the-middle hook to preserve), @huggingface/*.
 */
export const EXTERNALS = ['onnxruntime-node'];

// CommonJS dependencies call require('fs') & co.; an ESM bundle has no `require` unless given one.
const REQUIRE_SHIM =
  "import { createRequire as __verdictCreateRequire } from 'node:module';\n" +
  'const require = __verdictCreateRequire(import.meta.url);';

/**
 * cli/src/framework/registry.ts lists src/commands/ at run time (readdirSync next to its own
 * URL), which a bundle does not have. Replace it at bundle time with static imports of the same
 * files and the same checks, so a command added as one file still lands in the bundle.
 */
function staticCommandRegistry() {
  const registry = join(ROOT, 'cli', 'src', 'framework', 'registry.ts');
  const commandsDir = join(ROOT, 'cli', 'src', 'commands');
  return {
    name: 'verdict-static-command-registry',
    setup(build) {
      build.onLoad({ filter: /[\\/]cli[\\/]src[\\/]framework[\\/]registry\.ts$/ }, (args) => {
        if (resolve(args.path) !== registry) return undefined;
        const files = readdirSync(commandsDir)
          .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(test|d)\.ts$/.test(f))
          .sort();
        const imports = files.map(
          (f, i) => `import * as m${i} from ${JSON.stringify(join(commandsDir, f))};`,
        );
        const table = files.map((f, i) => `[${JSON.stringify(f)}, m${i}]`).join(', ');
        const contents = `${imports.join('\n')}
const MODULES = [${table}];
function isCommand(x) {
  return typeof x?.name === 'string' && typeof x.run === 'function' && typeof x.flags === 'object';
}
export async function loadCommands() {
  const commands = [];
  for (const [file, mod] of MODULES) {
    const cmd = mod.default;
    if (!isCommand(cmd)) throw new Error('src/commands/' + file + ': default export is not a command');
    if (commands.some((c) => c.name === cmd.name)) throw new Error('command "' + cmd.name + '" defined twice');
    commands.push(cmd);
  }
  return commands.sort((a, b) => a.name.localeCompare(b.name));
}
`;
        return { contents, loader: 'ts', resolveDir: dirname(registry) };
      });
    },
  };
}

/** esbuild as installed with tsx (root devDependency), resolved through tsx so no new dependency is needed. */
async function loadEsbuild() {
  const fromTsx = createRequire(createRequire(join(ROOT, 'package.json')).resolve('tsx'));
  return import(pathToFileURL(fromTsx.resolve('esbuild')).href);
}

/**
 * Writes <out>/<service>.mjs for each service, <out>/verdict.mjs, <out>/session-worker.js (the
 * @verdict/graph session pool starts `./session-worker.js` next to the bundle) and a
 * package.json marking the folder as ESM. Returns the written files with their sizes.
 */
export async function bundleAll({ outDir, services = SERVICES, logLevel = 'warning' } = {}) {
  const esbuild = await loadEsbuild();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const entryPoints = [
    ...services.map((s) => ({ in: join(ROOT, 'services', s, 'src', 'main.ts'), out: s })),
    { in: join(ROOT, 'cli', 'src', 'main.ts'), out: 'verdict' },
  ];
  const common = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNALS,
    banner: { js: REQUIRE_SHIM },
    // Class/function names stay readable in stack traces and VerdictError names.
    keepNames: true,
    legalComments: 'none',
    logLevel,
    absWorkingDir: ROOT,
  };
  await esbuild.build({
    ...common,
    entryPoints,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    plugins: [staticCommandRegistry()],
    // Top-level await in the mains: chunks would split state between entries, so none.
    splitting: false,
  });
  // The worker is its own entry: loaded by URL at run time, never imported.
  await esbuild.build({
    ...common,
    entryPoints: [join(ROOT, 'libs', 'graph', 'src', 'runtime', 'session-worker.ts')],
    outfile: join(outDir, 'session-worker.js'),
  });
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify({ name: 'verdict-image', private: true, type: 'module' }, null, 2)}\n`,
  );
  return readdirSync(outDir).map((f) => ({ file: f, bytes: statSync(join(outDir, f)).size }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const outDir = resolve(
    i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : join(ROOT, '.verdict/images/bundle'),
  );
  const t0 = Date.now();
  const files = await bundleAll({ outDir });
  for (const { file, bytes } of files) {
    process.stdout.write(`${relative(process.cwd(), join(outDir, file))}\t${(bytes / 1e6).toFixed(2)} MB\n`);
  }
  process.stdout.write(`bundled ${files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
