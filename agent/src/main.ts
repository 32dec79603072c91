import { COMMANDS } from './cli/commands';
import { runCli } from './cli/run-cli';

runCli(process.argv.slice(2), COMMANDS).then(
  (code) => {
    process.exitCode = code;
    // `start` keeps the process alive by its sockets; the others end here.
  },
  (err) => {
    console.error(`portway: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
