import type { ApprovalRequest, ConsoleEvent } from '../../shared/src/index.js';
import type { BridgeHost } from './bridge-host.js';

export interface ApprovalNotice {
  title: string;
  body: string;
  approvalId: string;
}

export interface ApprovalsWatchOptions {
  host: Pick<BridgeHost, 'api' | 'subscribe' | 'onSessionChange' | 'signedIn'>;
  /** The number of pending approvals (null while signed out), for the tray. */
  onCount(count: number | null): void;
  /** One native notification per new approval request (SPEC §5). */
  notify(notice: ApprovalNotice): void;
}

/**
 * Follows the approvals of the default project while the admin is signed in: keeps the pending
 * count current (from `listApprovals?status=pending`'s total) and announces each new request.
 * Driven by the same event stream as the console, so nothing is polled.
 */
export class ApprovalsWatch {
  readonly #options: ApprovalsWatchOptions;
  #unsubscribe: (() => void) | undefined;
  readonly #offSession: () => void;

  constructor(options: ApprovalsWatchOptions) {
    this.#options = options;
    this.#offSession = options.host.onSessionChange((signedIn) => (signedIn ? this.#follow() : this.#forget()));
    if (options.host.signedIn) this.#follow();
  }

  close(): void {
    this.#offSession();
    this.#forget();
  }

  #follow(): void {
    this.#forget();
    this.#unsubscribe = this.#options.host.subscribe(null, (event) => void this.#onEvent(event));
    void this.#count();
  }

  #forget(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#options.onCount(null);
  }

  async #onEvent({ category, event }: ConsoleEvent): Promise<void> {
    if (category !== 'approval') return;
    await this.#count();
    if (event.event_type !== 'approval.requested' || !event.target?.startsWith('approval:')) return;
    const id = event.target.slice('approval:'.length);
    const result = await this.#options.host.api({ route: 'getApproval', params: { id } });
    if (!result.ok) return;
    const approval = result.data as ApprovalRequest;
    this.#options.notify({
      title: `${approval.agent_name} asks to use ${approval.tool}`,
      body: approval.summary,
      approvalId: approval.id,
    });
  }

  async #count(): Promise<void> {
    const result = await this.#options.host.api({ route: 'listApprovals', query: { status: 'pending', limit: 1 } });
    if (result.ok && this.#unsubscribe) this.#options.onCount(result.total ?? 0);
  }
}
