/*
 * `tsx bench/profile-summary.mts <file.cpuprofile> [top]`: where a `--cpu-prof` profile spent its
 * time — self time per function, and inclusive time per package or source file — without a
 * browser. Profiles come from `npm run bench -- --profile` (bench/.cache/profiles).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile-summary.mts <file.cpuprofile> [top]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// Time per sample is the delta to the next one; a node's self time is the sum over its samples.
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** Where a frame's code lives: a package, a file of ours, or Node's internals. */
const place = (url: string) => {
  if (!url) return '(native / idle / gc)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node:internal';
  return url.replace(/^file:\/\/.*?\/dist\//, 'dist/');
};

const selfByFunction = new Map<string, number>();
const inclusiveByFunction = new Map<string, number>();
const inclusiveByPlace = new Map<string, number>();
const nameOf = ({ functionName, url, lineNumber }: ProfileNode['callFrame']) =>
  `${functionName || '(anonymous)'} ${place(url)}:${lineNumber + 1}`;
for (const [id, time] of self) {
  const name = nameOf(byId.get(id)!.callFrame);
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + time);
  // Inclusive: each function and each place on the sample's stack counts once (recursion).
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)!.callFrame;
    for (const [key, totals] of [
      [nameOf(frame), inclusiveByFunction],
      [place(frame.url), inclusiveByPlace],
    ] as const) {
      if (!seen.has(key)) totals.set(key, (totals.get(key) ?? 0) + time);
      seen.add(key);
    }
  }
}

const print = (title: string, entries: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, time] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((time / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
print('self time by function', selfByFunction);
print('inclusive time by function', inclusiveByFunction);
print('inclusive time by package / file', inclusiveByPlace);
