import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { REPO } from './daemon.js';

/** One line of the results table. `pass: null` = reported, no target to pass (B7). */
export interface Row {
  id: string;
  scenario: string;
  target: string;
  measured: string;
  pass: boolean | null;
}

export interface Machine {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  commit: string;
  /** Load averages (1, 5, 15 min) when the run started: other work on the machine skews figures. */
  loadAtStart: number[];
}

export function machine(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO }).toString().trim();
  } catch {
    // not a git checkout: the commit is only informative
  }
  return {
    date: new Date().toISOString(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    commit,
    loadAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

const verdict = (pass: boolean | null) => (pass === null ? 'report' : pass ? '✅ pass' : '❌ fail');

export function markdown(title: string, host: Machine, rows: Row[], notes: string[]): string {
  return [
    `# ${title}`,
    '',
    `${host.date} · ${host.cores} × ${host.cpuModel} · ${host.memoryGiB} GiB · Node ${host.node} · Linux ${host.kernel} · ` +
      `commit ${host.commit} · load at start ${host.loadAtStart.join(' / ')}`,
    '',
    '| id | scenario | target | measured | result |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.id} | ${r.scenario} | ${r.target} | ${r.measured} | ${verdict(r.pass)} |`),
    '',
    ...notes.map((note) => `- ${note}`),
    '',
  ].join('\n');
}

/** Writes `<name>.md` and `<name>.json` into `dir`, formatted as the repo's Prettier config says. */
export async function writeResults(dir: string, name: string, md: string, json: unknown): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [file, text] of [
    [join(dir, `${name}.md`), md],
    [join(dir, `${name}.json`), JSON.stringify(json)],
  ] as const) {
    const options = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
    files.push(file);
  }
  return files;
}

export const round = (n: number, digits = 0) => Number(n.toFixed(digits));
export const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
