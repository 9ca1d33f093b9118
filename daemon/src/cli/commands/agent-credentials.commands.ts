import type { Command } from 'commander';
import { findAgentId, openAgentSecrets, parseAgentRef, readAgentIdentity, readAgentKey } from '../agent-secrets.js';
import { contextOf, type CliContext } from '../context.js';
import { CliError, UnreachableError } from '../errors.js';
import { printJson } from '../output.js';
import { BROKER_AUDIENCE } from '@gatehouse/shared';
import { ApiClient } from '../api-client.js';
import { connectionEnv } from '../connection-env.js';
import { runChild } from '../run-child.js';

/**
 * Environment variables a program under `gatehouse run` must not inherit: the human's
 * credentials, and what unlocks every secret (the secrets file's passphrase, the keyring's password).
 */
const WITHHELD = ['GATEHOUSE_TOKEN', 'GATEHOUSE_PASSPHRASE', 'GATEHOUSE_KEYRING_PASSWORD'];

/** `secret get` and `run`: an agent's own credentials, straight from the keychain. */
export function registerAgentCredentialCommands(program: Command): void {
  const secret = program
    .command('secret')
    .description("an agent's secrets, read from the OS keychain (no daemon needed)");

  secret
    .command('get <project/agent>')
    .description("print the agent's API key (its newest active one), or with --identity its private key")
    .option('--identity', "the agent's Ed25519 private key (PKCS8 PEM) instead")
    .option('--json', 'print {agent, api_key} (with --identity {agent, agent_id, private_key})')
    .addHelpText('after', '\nExample:\n  export GATEHOUSE_API_KEY=$(gatehouse secret get default/researcher)')
    .action(async (text: string, options: { identity?: boolean; json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const ref = parseAgentRef(text);
      const secrets = await openAgentSecrets(context.home, context.keychainService);
      if (options.identity) {
        const { agentId, privateKey } = await readAgentIdentity(secrets, context.home, ref);
        if (options.json) printJson({ agent: text, agent_id: agentId, private_key: privateKey });
        else process.stdout.write(privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`);
        return;
      }
      const key = await readAgentKey(secrets, context.home, ref);
      if (options.json) printJson({ agent: text, api_key: key });
      else console.log(key);
    });

  program
    .command('run')
    .description("run a program with an agent's credentials in its environment, never on its command line")
    .requiredOption('--agent <project/agent>', 'whose credentials')
    .option(
      '--connection <name[:sdk]>',
      "reach this connection through the broker: sets its SDK's base URL and API key (openai, anthropic) to the broker and a token good only there; repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .argument('<command...>', 'the program and its arguments, after --')
    .addHelpText(
      'after',
      '\nThe program gets GATEHOUSE_API_KEY, GATEHOUSE_URL and GATEHOUSE_AGENT_ID. SIGINT, SIGTERM and SIGHUP\n' +
        "are passed on to it, and gatehouse exits with its exit code (128 + the signal's number if a signal\n" +
        'ended it; 127 if it cannot be found). Example:\n' +
        '  gatehouse run --agent default/researcher -- python3 agent.py --verbose\n' +
        '\nWith --connection openai the program gets OPENAI_BASE_URL (the broker) and OPENAI_API_KEY (an agent token\n' +
        'good only at the broker, for an hour): the SDK works unmodified and never sees the upstream secret.\n' +
        '  gatehouse run --agent default/researcher --connection openai -- python3 agent.py',
    )
    .action(async (argv: string[], options: { agent: string; connection?: string[] }, command: Command) => {
      const context = contextOf(command);
      const ref = parseAgentRef(options.agent);
      const secrets = await openAgentSecrets(context.home, context.keychainService);
      const key = await readAgentKey(secrets, context.home, ref);
      const agentId = await findAgentId(context.home, ref);
      if (agentId === null) throw new CliError(`there is no agent ${options.agent}.`);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        GATEHOUSE_API_KEY: key,
        GATEHOUSE_URL: urlForProgram(context),
        GATEHOUSE_AGENT_ID: agentId,
      };
      if (options.connection?.length) {
        // A token of its own for the broker, in place of the key: the key would work anywhere.
        const daemonUrl = context.daemonUrl();
        const { data } = await new ApiClient(daemonUrl).call('agentToken', {
          body: { agent_id: agentId, secret: key, audience: BROKER_AUDIENCE },
        });
        for (const option of options.connection)
          Object.assign(env, connectionEnv(daemonUrl, option, data.access_token));
        delete env.GATEHOUSE_API_KEY;
      }
      for (const name of WITHHELD) delete env[name];
      process.exitCode = await runChild(argv, env);
    });
}

/** The daemon's URL; with none running yet, the default address (the key works once it starts). */
function urlForProgram(context: CliContext): string {
  try {
    return context.daemonUrl();
  } catch (error) {
    if (!(error instanceof UnreachableError)) throw error;
    const url = `http://127.0.0.1:${process.env.GATEHOUSE_PORT ?? 7420}`;
    console.error(`gatehouse: no daemon is running for ${context.home}; GATEHOUSE_URL=${url}`);
    return url;
  }
}
