// The single executable's entry point, bundled by scripts/package.mjs: what bin/nomad-api does,
// less the compile cache (every module is already in the one script, nothing is left to cache).
// No top-level await: a Node 20 SEA runs its main as CommonJS.
import { main } from '../dist/cli/main.js';

const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
