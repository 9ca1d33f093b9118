import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouse } from './test-cli.js';

/*
 * The completion scripts, loaded into real shells: each case sets the words typed so far and
 * calls the completion function the way the shell would.
 */

const nowhere = { home: join(tmpdir(), 'gatehouse-completion-home'), keychainService: 'gatehouse-completion' };
const hasZsh = spawnSync('zsh', ['--version']).status === 0;

describe('gatehouse completion', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-completion-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const script = async (shell: string) => {
    const run = await gatehouse(nowhere, ['completion', shell]);
    expect(run.code, run.stderr).toBe(0);
    const file = join(dir, `gatehouse.${shell}`);
    writeFileSync(file, run.stdout);
    return file;
  };

  it('completes commands, subcommands, options and choices in bash', async () => {
    const file = await script('bash');
    const complete = (words: string[]) => {
      const program = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _gatehouse; echo "\${COMPREPLY[*]}"`;
      const run = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      return run.stdout.trim().split(' ').filter(Boolean).sort();
    };
    expect(complete(['gatehouse', 'a'])).toEqual(['agents', 'audit']);
    expect(complete(['gatehouse', 'agents', ''])).toEqual(['create', 'list', 'resume', 'revoke', 'show', 'suspend']);
    expect(complete(['gatehouse', '--project', 'x', 'keys', 'r'])).toEqual(['revoke', 'rotate']);
    expect(complete(['gatehouse', 'agents', 'list', '--s'])).toEqual(['--search', '--status']);
    expect(complete(['gatehouse', 'agents', 'list', '--status', ''])).toEqual(['active', 'revoked', 'suspended']);
    expect(complete(['gatehouse', 'secret', 'get', '--'])).toEqual([
      '--help',
      '--home',
      '--identity',
      '--json',
      '--project',
      '--url',
    ]);
    expect(complete(['gatehouse', 'run', '--agent', 'default/a', '--', 'l'])).toEqual([]);
  });

  it.skipIf(!hasZsh)(
    'completes commands, options and choices in zsh (skipped where zsh is not installed)',
    async () => {
      const file = await script('zsh');
      // compsys is not loaded in a script: stand-ins for the few functions the completion calls.
      const complete = (words: string[]) => {
        const program = `compdef() {}; _describe() { print -rl -- \${(P)\${@[-1]}} }; compadd() { print -rl -- \${(P)\${@[-1]}} }
        source ${file}; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; _gatehouse`;
        const run = spawnSync('zsh', ['-f', '-c', program], { encoding: 'utf8' });
        expect(run.stderr).toBe('');
        return run.stdout.trim().split('\n').sort();
      };
      expect(complete(['gatehouse', 'keys', ''])).toEqual([
        'create:issue an API key\\: printed once, and saved in the OS keychain',
        "list:the agent's keys (never the keys themselves)",
        'revoke:revoke a key now',
        'rotate:replace a key with a new one (printed once); the old one stops after the grace period',
      ]);
      expect(complete(['gatehouse', 'agents', 'list', '--status', ''])).toEqual(['active', 'revoked', 'suspended']);
      expect(complete(['gatehouse', 'audit', 'tail', '-'])).toContain(
        '--follow:keep printing events as they happen (Ctrl-C to stop)',
      );
    },
  );
});
