import { useState } from 'react';
import type { Agent } from '@gatehouse/shared';

export function AgentIdentity({ agent }: { agent: Agent }): React.JSX.Element {
  const [copied, setCopied] = useState(false);
  return (
    <div>
      <dl className="facts">
        <div>
          <dt>Fingerprint</dt>
          <dd>
            <code>{agent.key_fingerprint}</code>
          </dd>
        </div>
      </dl>
      <pre className="key" aria-label="Public key">
        {agent.public_key}
      </pre>
      <button onClick={() => void navigator.clipboard.writeText(agent.public_key ?? '').then(() => setCopied(true))}>
        {copied ? 'Copied' : 'Copy public key'}
      </button>
      <p className="muted">
        The private key never leaves the OS keychain; the agent proves who it is by signing a challenge with it.
      </p>
    </div>
  );
}
