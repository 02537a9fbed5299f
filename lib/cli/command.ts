/** One CLI command: what `nomad-api <name>` runs. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  synopsis: string;
  usage: string;
  /** Resolves to the exit status: 0 success, 1 server or network error, 2 usage error. */
  run(args: string[], io: CommandIO): Promise<number>;
}
