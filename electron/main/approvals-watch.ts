import type { ApprovalRequest, ConsoleEvent, Project } from '@gatehouse/shared';
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
 * Follows the approvals of every project the admin belongs to while signed in: keeps the pending
 * count current (the sum of `listApprovals?status=pending`'s totals) and announces each new
 * request. Driven by the same event streams as the console, so nothing is polled. The projects
 * are those of the sign-in; one created later is followed from the next sign-in.
 */
export class ApprovalsWatch {
  readonly #options: ApprovalsWatchOptions;
  #unsubscribes: Array<() => void> = [];
  /** Pending approvals per followed project. */
  readonly #pending = new Map<string, number>();
  /** Bumped by every follow and forget, so a follow that finishes late does not resurrect itself. */
  #run = 0;
  readonly #offSession: () => void;

  constructor(options: ApprovalsWatchOptions) {
    this.#options = options;
    this.#offSession = options.host.onSessionChange((signedIn) => (signedIn ? void this.#follow() : this.#forget()));
    if (options.host.signedIn) void this.#follow();
  }

  close(): void {
    this.#offSession();
    this.#forget();
  }

  async #follow(): Promise<void> {
    this.#forget();
    const run = this.#run;
    const projects = await this.#options.host.api({ route: 'listProjects', query: { limit: 1000 } });
    if (!projects.ok || run !== this.#run) return;
    for (const { id } of projects.data as Project[]) {
      this.#pending.set(id, 0);
      this.#unsubscribes.push(this.#options.host.subscribe(id, (event) => void this.#onEvent(id, event)));
    }
    await Promise.all([...this.#pending.keys()].map((id) => this.#count(id, run)));
  }

  #forget(): void {
    this.#run++;
    for (const unsubscribe of this.#unsubscribes) unsubscribe();
    this.#unsubscribes = [];
    this.#pending.clear();
    this.#options.onCount(null);
  }

  async #onEvent(projectId: string, { category, event }: ConsoleEvent): Promise<void> {
    if (category !== 'approval') return;
    await this.#count(projectId, this.#run);
    if (event.event_type !== 'approval.requested' || !event.target?.startsWith('approval:')) return;
    const id = event.target.slice('approval:'.length);
    const result = await this.#options.host.api({ route: 'getApproval', params: { id }, projectId });
    if (!result.ok) return;
    const approval = result.data as ApprovalRequest;
    this.#options.notify({
      title: `${approval.agent_name} asks to use ${approval.tool}`,
      body: approval.summary,
      approvalId: approval.id,
    });
  }

  async #count(projectId: string, run: number): Promise<void> {
    const result = await this.#options.host.api({
      route: 'listApprovals',
      query: { status: 'pending', limit: 1 },
      projectId,
    });
    if (!result.ok || run !== this.#run) return;
    this.#pending.set(projectId, result.total ?? 0);
    this.#options.onCount([...this.#pending.values()].reduce((sum, count) => sum + count, 0));
  }
}
