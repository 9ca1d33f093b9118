import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ReferenceServer {
  url: string;
  pid: number;
  /**
   * Makes every answer this exact body (one of the daemon's), so the servers send as many bytes;
   * `schema` is the route's response schema, for a server that serialises as the daemon does.
   */
  answerWith(body: string, schema?: unknown): Promise<void>;
  stop(): void;
}

/** Starts one of bench/'s reference servers in a process of its own. */
async function startReferenceServer(script: string, args: string[] = []): Promise<ReferenceServer> {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`${script} exited (${code})`)));
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid!,
    async answerWith(body, schema) {
      const response = await fetch(`${url}/__body`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body, schema }),
      });
      if (response.status !== 204) throw new Error(`${script} refused its body: ${response.status}`);
    },
    stop: () => child.kill('SIGTERM'),
  };
}

/** The plain node:http server: the practical limit of a Node daemon on this machine. */
export const startBaseline = () => startReferenceServer('baseline-server.mts');

/** Bare Fastify serialising the daemon's way: the limit of a Fastify daemon on this machine. */
export const startFrameworkFloor = () => startReferenceServer('framework-floor-server.mts');

/** A plain node:http + undici proxy in front of `upstream`: the limit of any Node proxy on this machine. */
export const startProxyFloor = (upstream: string) => startReferenceServer('proxy-floor-server.mts', [upstream]);
