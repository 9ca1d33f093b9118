import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../baseline-server.mts', import.meta.url));

export interface Baseline {
  url: string;
  /** Makes every answer this exact body (one of the daemon's), so both servers send as many bytes. */
  answerWith(body: string): Promise<void>;
  stop(): void;
}

/** Starts the plain node:http baseline server in a process of its own. */
export async function startBaseline(): Promise<Baseline> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the baseline server exited (${code})`)));
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async answerWith(body) {
      const response = await fetch(`${url}/__body`, { method: 'PUT', body });
      if (response.status !== 204) throw new Error(`the baseline refused its body: ${response.status}`);
    },
    stop: () => child.kill('SIGTERM'),
  };
}
