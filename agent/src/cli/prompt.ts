import * as readline from 'node:readline/promises';

/** Asks one question on the terminal; empty answers fall back to the default. */
export async function ask(question: string, fallback?: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(fallback ? `${question} [${fallback}]: ` : `${question}: `)).trim();
    return answer || fallback || '';
  } finally {
    rl.close();
  }
}

export const isInteractive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY);
