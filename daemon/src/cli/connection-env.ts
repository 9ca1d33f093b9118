/**
 * What unmodified SDKs read, for a program that reaches an upstream through the broker: the
 * base URL points at `/proxy/<connection>`, the API key is an agent token good only there.
 * The connection's base URL is what the SDK's own default base URL would be (OpenAI:
 * https://api.openai.com/v1; Anthropic: https://api.anthropic.com).
 */
const SDK_VARIABLES: Record<string, { baseUrl: string; apiKey: string }> = {
  openai: { baseUrl: 'OPENAI_BASE_URL', apiKey: 'OPENAI_API_KEY' },
  anthropic: { baseUrl: 'ANTHROPIC_BASE_URL', apiKey: 'ANTHROPIC_API_KEY' },
};

/** `openai` or `work-openai:openai`: the connection's name, and the SDK it stands for (by default its name). */
export function parseConnectionOption(text: string): { connection: string; sdk: string | null } {
  const [connection, sdk] = text.split(':') as [string, string | undefined];
  const named = sdk ?? connection;
  return { connection, sdk: named in SDK_VARIABLES ? named : null };
}

const variableName = (connection: string) => connection.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** The variables for one connection: its SDK's when it stands for one, and GATEHOUSE_CONNECTION_<NAME>_URL always. */
export function connectionEnv(daemonUrl: string, option: string, token: string): Record<string, string> {
  const { connection, sdk } = parseConnectionOption(option);
  const url = `${daemonUrl.replace(/\/+$/, '')}/proxy/${connection}`;
  const env: Record<string, string> = {
    [`GATEHOUSE_CONNECTION_${variableName(connection)}_URL`]: url,
    GATEHOUSE_BROKER_TOKEN: token,
  };
  const variables = sdk ? SDK_VARIABLES[sdk] : undefined;
  if (variables) {
    env[variables.baseUrl] = url;
    env[variables.apiKey] = token;
  }
  return env;
}
