import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { constants } from 'node:os';
import type { Command } from 'commander';
import keytar from 'keytar';
import type {
  Agent,
  AgentKey,
  AuditEvent,
  IssuedAgentKey,
  TokenPair,
  Workflow,
  WorkflowGraph,
} from '../../../shared/src/index.js';
import { agentId, agentKey, CliError, daemonUrl, place, request, session, type Place } from './client.js';

interface Global {
  url?: string;
  home?: string;
  project?: string;
  json?: boolean;
}

/** Columns aligned for people; `--json` prints the contract's own JSON for programs. */
function print<T>(json: boolean | undefined, data: T | T[], columns?: Array<[string, (row: T) => unknown]>): void {
  if (json || !columns) return console.log(JSON.stringify(data, null, 2));
  const rows = (Array.isArray(data) ? data : [data]).map((row) => columns.map(([, cell]) => String(cell(row) ?? '—')));
  const header = columns.map(([title]) => title);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  for (const line of [header, ...rows])
    console.log(
      line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

const agentColumns: Array<[string, (a: Agent) => unknown]> = [
  ['NAME', (a) => a.name],
  ['STATUS', (a) => a.status],
  ['PROVIDER', (a) => a.provider],
  ['SCOPES', (a) => a.scopes.join(',') || undefined],
  ['CREATED', (a) => a.created_at],
];
const keyColumns: Array<[string, (k: AgentKey) => unknown]> = [
  ['ID', (k) => k.id],
  ['KEY', (k) => `agent_${k.prefix}_…${k.last_four}`],
  ['LABEL', (k) => k.label],
  ['ACTIVE', (k) => (k.active ? 'yes' : 'no')],
  ['EXPIRES', (k) => k.expires_at ?? 'never'],
  ['LAST USED', (k) => k.last_used_at],
];
const auditLine = (e: AuditEvent) =>
  `${e.at}  #${e.sequence_number}  ${e.event_type}  ${e.actor}  ${e.target ?? ''}`.trimEnd();

/** Everything a command needs: where the daemon is, and a signed-in caller. */
async function context(command: Command) {
  const options = command.optsWithGlobals<Global>();
  const where = place(options.home);
  const url = daemonUrl(where, options.url);
  const call = async <T>(route: Parameters<typeof request>[1], req: Parameters<typeof request>[2] = {}) =>
    request<T>(url, route, {
      token: await session.accessToken(where, url),
      ...(options.project ? { project: options.project } : {}),
      ...req,
    });
  return { options, where, url, call };
}

const printIssued = (key: IssuedAgentKey) => {
  console.log(key.api_key);
  console.error(
    key.keychain
      ? `Shown once. Saved in the OS keychain: service "${key.keychain.service}", account "${key.keychain.account}".`
      : 'Shown once. Not saved in the keychain.',
  );
};

async function prompt(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`${question.trim()} needed: run on a terminal, or see --help.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  const answer = await rl.question(question);
  rl.close();
  if (hidden) process.stderr.write('\n');
  return answer.trim();
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

export function registerCommands(program: Command): void {
  program
    .option('--url <url>', 'the daemon (default: the running daemon of the data dir) [env GATEHOUSE_URL]')
    .option('--home <dir>', 'data directory [env GATEHOUSE_HOME]')
    .option('--project <project>', 'project id or slug (default: the default project)');

  program
    .command('status')
    .description('the daemon, its version and keychain backend, and who is signed in')
    .option('--json', 'JSON output')
    .action(async (_o, command: Command) => {
      const options = command.optsWithGlobals<Global>();
      const where = place(options.home);
      const url = daemonUrl(where, options.url);
      const { data: status } = await request<{ version: string; keychain: { description: string }; data_dir: string }>(
        url,
        'status',
      );
      let user: string | null = null;
      try {
        const token = await session.accessToken(where, url);
        user = (await request<{ user: { username: string } }>(url, 'whoami', { token })).data.user.username;
      } catch {
        user = null;
      }
      if (options.json) return print(true, { url, ...status, signed_in_as: user });
      console.log(
        `daemon     ${url} (gatehoused ${status.version})\ndata       ${status.data_dir}\nkeychain   ${status.keychain.description}\nsigned in  ${user ?? 'no (gatehouse login)'}`,
      );
    });

  program
    .command('login')
    .description('sign in; the session is kept in the OS keychain')
    .option('--username <name>', 'your username (asked when absent)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--totp <code>', 'two-factor code, when your account has MFA on')
    .action(async (o: { username?: string; passwordStdin?: boolean; totp?: string }, command: Command) => {
      const options = command.optsWithGlobals<Global>();
      const where = place(options.home);
      const url = daemonUrl(where, options.url);
      const username = o.username ?? (await prompt('Username: '));
      const password = o.passwordStdin ? await readStdin() : await prompt('Password: ', true);
      const login = (totp_code?: string) =>
        request<TokenPair>(url, 'login', { body: { username, password, ...(totp_code ? { totp_code } : {}) } });
      const tokens = await login(o.totp).catch(async (error: CliError & { code?: string }) => {
        if (error.code !== 'mfa_required' || o.totp) throw error;
        return login(await prompt('Two-factor code: '));
      });
      await session.save(where, url, tokens.data.refresh_token);
      console.error(`Signed in to ${url} as ${username}. The session is kept in the OS keychain.`);
    });

  program
    .command('logout')
    .description('end the session and remove it from the keychain')
    .action(async (_o, command: Command) => {
      const options = command.optsWithGlobals<Global>();
      const where = place(options.home);
      const url = daemonUrl(where, options.url);
      const token = await session.accessToken(where, url).catch(() => null);
      if (token) await request(url, 'logout', { token }).catch(() => null);
      await session.forget(where, url);
      console.error('Signed out.');
    });

  const agents = program.command('agents').description('the agents of a project');
  agents
    .command('list')
    .option('--status <status>', 'active, suspended or revoked')
    .option('--search <text>', 'part of the name or description')
    .option('--json', 'JSON output')
    .action(async (o: { status?: string; search?: string; json?: boolean }, command: Command) => {
      const { call } = await context(command);
      const { data } = await call<Agent[]>('listAgents', { query: { limit: 1000, status: o.status, q: o.search } });
      print(o.json, data, agentColumns);
    });
  agents
    .command('show <name>')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { json?: boolean }, command: Command) => {
      const { call } = await context(command);
      print(o.json, (await call<Agent>('getAgent', { params: { name } })).data, agentColumns);
    });
  agents
    .command('create <name>')
    .option('--description <text>')
    .option('--scopes <list>', 'comma-separated, e.g. payments:read,self:write')
    .option('--no-key', 'do not issue an API key now')
    .action(async (name: string, o: { description?: string; scopes?: string; key: boolean }, command: Command) => {
      const { call } = await context(command);
      const body = {
        name,
        ...(o.description ? { description: o.description } : {}),
        scopes: o.scopes ? o.scopes.split(',').filter(Boolean) : [],
        issue_key: o.key,
      };
      const { data } = await call<Agent & { agent_key?: IssuedAgentKey }>('createAgent', { body });
      console.error(`Created agent ${data.name} (${data.id}).`);
      if (data.agent_key) printIssued(data.agent_key);
    });
  for (const [verb, route, done] of [
    ['suspend', 'suspendAgent', 'Suspended'],
    ['resume', 'resumeAgent', 'Resumed'],
    ['revoke', 'revokeAgent', 'Revoked for good'],
  ] as const) {
    agents.command(`${verb} <name>`).action(async (name: string, _o, command: Command) => {
      const { call } = await context(command);
      await call(route, { params: { name } });
      console.error(`${done}: ${name}.`);
    });
  }

  const keys = program.command('keys').description("an agent's API keys");
  keys
    .command('list <agent>')
    .option('--json', 'JSON output')
    .action(async (agent: string, o: { json?: boolean }, command: Command) => {
      const { call } = await context(command);
      print(o.json, (await call<AgentKey[]>('listKeys', { params: { name: agent } })).data, keyColumns);
    });
  keys
    .command('create <agent>')
    .option('--label <label>')
    .option('--expires-in-days <days>', '0 = never (default 30)')
    .action(async (agent: string, o: { label?: string; expiresInDays?: string }, command: Command) => {
      const { call } = await context(command);
      const body = {
        ...(o.label ? { label: o.label } : {}),
        ...(o.expiresInDays ? { expires_in_days: Number(o.expiresInDays) } : {}),
      };
      printIssued((await call<IssuedAgentKey>('createKey', { params: { name: agent }, body })).data);
    });
  keys
    .command('rotate <agent> <key-id>')
    .option('--grace <seconds>', 'how long the old key keeps working (default 0)')
    .action(async (agent: string, keyId: string, o: { grace?: string }, command: Command) => {
      const { call } = await context(command);
      const body = o.grace ? { grace_seconds: Number(o.grace) } : {};
      printIssued((await call<IssuedAgentKey>('rotateKey', { params: { name: agent, key_id: keyId }, body })).data);
    });
  keys.command('revoke <agent> <key-id>').action(async (agent: string, keyId: string, _o, command: Command) => {
    const { call } = await context(command);
    await call('revokeKey', { params: { name: agent, key_id: keyId } });
    console.error(`Revoked key ${keyId}.`);
  });

  const workflows = program.command('workflows').description("the project's workflows");
  workflows
    .command('list')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }, command: Command) => {
      const { call } = await context(command);
      print(o.json, (await call<Workflow[]>('listWorkflows', { query: { limit: 1000 } })).data, [
        ['NAME', (w: Workflow) => w.name],
        ['SLUG', (w: Workflow) => w.slug],
        ['NODES', (w: Workflow) => w.node_count],
        ['EDGES', (w: Workflow) => w.edge_count],
        ['UPDATED', (w: Workflow) => w.updated_at],
      ]);
    });
  workflows
    .command('show <name>')
    .option('--json', 'JSON output (the graph)')
    .action(async (name: string, o: { json?: boolean }, command: Command) => {
      const { call } = await context(command);
      const { data: graph } = await call<WorkflowGraph>('getWorkflowGraph', { params: { name } });
      if (o.json) return print(true, graph);
      for (const n of graph.nodes)
        console.log(`${n.id}  ${n.node_type}  ${n.label ?? ''}  ${n.agent_id ? `agent ${n.agent_id}` : ''}`.trimEnd());
      for (const e of graph.edges)
        console.log(
          `${e.id}  ${e.source_node_id} → ${e.target_node_id}${e.edge_type === 'conditional' ? `  if ${e.condition}` : ''}`,
        );
    });

  const audit = program.command('audit').description('the audit log');
  audit
    .command('tail')
    .option('-n, --lines <n>', 'how many recent events', '20')
    .option('--follow', 'keep printing events as they happen')
    .option('--json', 'JSON lines')
    .action(async (o: { lines: string; follow?: boolean; json?: boolean }, command: Command) => {
      const { call, url, where, options } = await context(command);
      const { data } = await call<AuditEvent[]>('listAudit', { query: { limit: Number(o.lines) } });
      const show = (e: AuditEvent) => console.log(o.json ? JSON.stringify(e) : auditLine(e));
      data.reverse().forEach(show);
      if (!o.follow) return;
      const token = await session.accessToken(where, url);
      const response = await fetch(`${url}/v1/events`, {
        headers: { authorization: `Bearer ${token}`, ...(options.project ? { 'x-project-id': options.project } : {}) },
      });
      if (!response.ok || !response.body) throw new CliError(`cannot follow the event stream (${response.status}).`);
      let buffer = '';
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (data) show(JSON.parse(data) as AuditEvent);
        }
      }
    });

  const secret = program.command('secret').description('secrets in the OS keychain (no daemon needed)');
  secret
    .command('get <project/agent>')
    .description("print the agent's API key (or with --identity its private key), for $(…)")
    .option('--identity', "the agent's Ed25519 private key (PEM) instead of its API key")
    .option('--json', 'JSON output')
    .action(async (ref: string, o: { identity?: boolean; json?: boolean }, command: Command) => {
      const where = place(command.optsWithGlobals<Global>().home);
      if (!o.identity) {
        const key = await agentKey(where, ref);
        if (o.json) print(true, { agent: ref, api_key: key });
        else process.stdout.write(`${key}\n`);
        return;
      }
      const id = await agentId(where, ref);
      const pem = await keytar.getPassword(where.keychainService, `agent-identity:${id}`);
      if (!pem) throw new CliError(`no identity key for ${ref} in the keychain.`);
      if (o.json) print(true, { agent: ref, agent_id: id, private_key: pem });
      else process.stdout.write(pem);
    });

  program
    .command('run')
    .description("run a program with the agent's credentials in its environment (never on its command line)")
    .requiredOption('--agent <project/agent>', 'whose credentials')
    .argument('<command...>', 'the program and its arguments, after --')
    .action(async (argv: string[], o: { agent: string }, command: Command) => {
      const options = command.optsWithGlobals<Global>();
      const where = place(options.home);
      const key = await agentKey(where, o.agent);
      const env = {
        ...process.env,
        GATEHOUSE_API_KEY: key,
        GATEHOUSE_AGENT_ID: await agentId(where, o.agent),
        GATEHOUSE_URL: options.url ?? process.env.GATEHOUSE_URL ?? safeUrl(where),
      };
      await runChild(argv, env);
    });

  program
    .command('completion')
    .description('print a bash completion script: source <(gatehouse completion bash)')
    .argument('[shell]', 'bash', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash') throw new CliError('only bash completion is available.');
      const words = program.commands.map((c) => c.name()).join(' ');
      const subs = program.commands
        .filter((c) => c.commands.length > 0)
        .map(
          (c) =>
            `    ${c.name()}) COMPREPLY=($(compgen -W "${c.commands.map((s) => s.name()).join(' ')}" -- "$cur")); return;;`,
        )
        .join('\n');
      console.log(`_gatehouse() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "${words}" -- "$cur")); return; fi
  case \${COMP_WORDS[1]} in
${subs}
  esac
}
complete -F _gatehouse gatehouse`);
    });
}

/** The URL a child should use: the live daemon's, else the default address. */
function safeUrl(where: Place): string {
  try {
    return daemonUrl(where);
  } catch {
    return `http://127.0.0.1:${process.env.GATEHOUSE_PORT ?? 7420}`;
  }
}

/** Runs the program, forwarding signals, and exits with its code (128 + signal when killed). */
function runChild(argv: string[], env: NodeJS.ProcessEnv): Promise<never> {
  const [file, ...args] = argv;
  const child = spawn(file!, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward(signal));
  return new Promise((_, reject) => {
    child.once('error', (error) => reject(new CliError(`cannot run ${file}: ${error.message}`)));
    child.once('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
