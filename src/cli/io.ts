/** Where a command writes: stdout for results, stderr for progress and errors. Tests swap it. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  isTTY: boolean;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stdout.isTTY),
};
