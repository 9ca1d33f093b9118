import { Option, type Command } from 'commander';
import type { Agent, IssuedAgentKey } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { minute, printFields, printJson, printTable, type Column } from '../output.js';
import { integer, JSON_HELP, list } from './options.js';

const columns: Column<Agent>[] = [
  ['NAME', (a) => a.name],
  ['STATUS', (a) => a.status],
  ['PROVIDER', (a) => a.provider],
  ['MODEL', (a) => a.model],
  ['SCOPES', (a) => a.scopes],
  ['LAST AUTH', (a) => minute(a.last_auth_at)],
  ['CREATED', (a) => minute(a.created_at)],
];

export function printAgent(agent: Agent): void {
  printFields([
    ['name', agent.name],
    ['id', agent.id],
    ['status', agent.status],
    ['description', agent.description],
    ['provider', agent.provider],
    ['backend', agent.backend],
    ['model', agent.model],
    ['scopes', agent.scopes],
    ['allowed tools', agent.allowed_tools],
    ['approval required', agent.approval_required_tools],
    ['capability role', agent.capability_role],
    ['permissions version', agent.permissions_version],
    ['key fingerprint', agent.key_fingerprint],
    ['created', `${agent.created_at}${agent.created_by ? ` by ${agent.created_by}` : ''}`],
    ['last auth', agent.last_auth_at],
    ['revoked', agent.revoked_at],
  ]);
}

/** A key shown once: the key alone on stdout (for `$(…)`), where it was saved on stderr. */
export function printIssuedKey(key: IssuedAgentKey): void {
  console.log(key.api_key);
  console.error(
    key.keychain
      ? `Shown once. Saved in the OS keychain: service "${key.keychain.service}", account "${key.keychain.account}".`
      : 'Shown once, and not saved in the keychain: keep it now.',
  );
}

/** `agents list|show|create|suspend|resume|revoke`. */
export function registerAgentCommands(program: Command): void {
  const agents = program.command('agents').description("the project's agents");

  agents
    .command('list')
    .description('list agents')
    .addOption(
      new Option('--status <status>', 'only agents with this status').choices(['active', 'suspended', 'revoked']),
    )
    .option('-q, --search <text>', 'part of the name or description')
    .option('--limit <n>', 'at most this many', integer(1, 1000), 100)
    .option('--offset <n>', 'skip this many', integer(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--cursor <cursor>', 'the page after the one that printed this cursor (fast however deep)')
    .option('--json', JSON_HELP)
    .action(
      async (
        options: {
          status?: Agent['status'];
          search?: string;
          limit: number;
          offset: number;
          cursor?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const { data, total, next } = await contextOf(command)
          .api()
          .call('listAgents', {
            query: {
              status: options.status,
              q: options.search,
              limit: options.limit,
              ...(options.cursor ? { cursor: options.cursor } : { offset: options.offset }),
            },
          });
        if (options.json) return printJson(data);
        printTable(data, columns);
        if (next !== null)
          console.error(`${data.length} of ${total ?? '?'} agents shown; the next page: --cursor ${next}`);
      },
    );

  agents
    .command('show <agent>')
    .description('one agent, by name or id')
    .option('--json', JSON_HELP)
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command).api().call('getAgent', { params: { name } });
      if (options.json) printJson(data);
      else printAgent(data);
    });

  agents
    .command('create <name>')
    .description('create an agent and issue its first API key (shown once, saved in the OS keychain)')
    .option('--description <text>')
    .option('--provider <name>', 'e.g. openai, anthropic')
    .option('--backend <name>')
    .option('--model <name>')
    .option('--scopes <list>', 'comma-separated resource:action scopes, e.g. payments:read,self:write', list)
    .option('--tools <list>', 'comma-separated tools the agent may use', list)
    .option('--no-key', 'do not issue an API key now')
    .option('--json', 'print the created agent (and its key) as JSON')
    .action(
      async (
        name: string,
        options: {
          description?: string;
          provider?: string;
          backend?: string;
          model?: string;
          scopes?: string[];
          tools?: string[];
          key: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const { data } = await contextOf(command)
          .api()
          .call('createAgent', {
            body: {
              name,
              description: options.description,
              provider: options.provider,
              backend: options.backend,
              model: options.model,
              scopes: options.scopes,
              allowed_tools: options.tools,
              issue_key: options.key,
            },
          });
        if (options.json) return printJson(data);
        console.error(`Created agent ${data.name} (${data.id}).`);
        if (data.agent_key) printIssuedKey(data.agent_key);
      },
    );

  const statusChanges = [
    ['suspend', 'suspendAgent', 'Suspended', 'suspend an agent: its keys and tokens stop working until it is resumed'],
    ['resume', 'resumeAgent', 'Resumed', 'resume a suspended agent'],
  ] as const;
  for (const [verb, route, done, description] of statusChanges) {
    agents
      .command(`${verb} <agent>`)
      .description(description)
      .option('--json', 'print the agent as JSON')
      .action(async (name: string, options: { json?: boolean }, command: Command) => {
        const { data } = await contextOf(command).api().call(route, { params: { name } });
        if (options.json) printJson(data);
        else console.error(`${done} ${data.name}.`);
      });
  }

  agents
    .command('revoke <agent>')
    .description('revoke an agent for good (it can never be resumed; see suspend)')
    .option('--yes', 'confirm: revoking cannot be undone')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { yes?: boolean; json?: boolean }, command: Command) => {
      if (!options.yes) throw new UsageError(`revoking ${name} cannot be undone: add --yes (or suspend it instead).`);
      const { data } = await contextOf(command).api().call('revokeAgent', { params: { name } });
      if (options.json) printJson(data);
      else console.error(`Revoked ${name} for good.`);
    });
}
