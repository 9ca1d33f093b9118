import { routes, type AuditEvent } from '@gatehouse/shared';
import { forbidden, notFound } from '../../errors.js';
import { isUserAdmin } from '../../domain/users/users.service.js';
import { stillAccepted } from '../authenticate.js';
import { implement } from '../route-binding.js';

/** The SSE event name of an audit event: its category (`agent`, `key`, `approval`, `auth`, …). */
const category = (event: AuditEvent) => event.event_type.split('.')[0]!;
const HEARTBEAT_MS = 15_000;
/** How often an open stream asks whether its credential is still good (a token expires quietly). */
const RECHECK_MS = 1000;
/** How many missed events a reconnecting client is sent; beyond that it should reload. */
const RESUME_LIMIT = 1000;

/** Approvals (SPEC §5) and the live event stream the console follows. */
export const approvalsRoutes = [
  implement(routes.requestApproval, async ({ services, auth, body }) =>
    services.approvals.request(auth.agent, body, auth.claims?.tools ?? null, auth.actor),
  ),

  implement(routes.getApproval, async ({ services, auth, params }) => {
    if (auth.kind === 'user' && auth.privilege === null)
      throw forbidden(`You are not a member of project "${auth.project.slug}".`);
    const approval = await services.approvals.get(params.id, auth.project.id);
    // An agent sees only its own requests; another agent's id reads as unknown.
    if (auth.kind === 'agent' && approval.agent_id !== auth.agent.id) throw notFound('Approval request');
    return approval;
  }),

  implement(routes.listApprovals, async ({ services, auth, query }) => services.approvals.list(auth.project.id, query)),

  implement(routes.approveApproval, async ({ services, auth, params, body }) =>
    services.approvals.decide(params.id, auth.project.id, 'approved', body.note, auth.actor),
  ),
  implement(routes.denyApproval, async ({ services, auth, params, body }) =>
    services.approvals.decide(params.id, auth.project.id, 'denied', body.note, auth.actor),
  ),

  implement(routes.events, async ({ services, auth, request, reply }) => {
    // Events of the project; events of no project (users, tools, roles) only for admins.
    const visible = (event: AuditEvent) =>
      event.project_id === auth.project.id || (event.project_id === null && isUserAdmin(auth.user));
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // The stream is the whole response: its socket ends with it, so a shutdown is never held up.
      Connection: 'close',
      'X-Content-Type-Options': 'nosniff',
      'X-Request-Id': String(request.id),
    });
    stream.write('retry: 2000\n: connected\n\n');

    // The stream lasts while its credential would be accepted on a request: it is asked again
    // before every batch of events goes out (the change that ends it is itself audited, and is
    // not sent) and every second (a token expires without an event). Until then, it ends when
    // the client goes away or the daemon shuts down (clients reconnect after `retry`).
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const accepted = async () => {
      const still = await stillAccepted(services, request, routes.events.auth).catch(() => false);
      if (!still) end();
      return still;
    };

    let sent = 0;
    const send = (events: AuditEvent[]) => {
      for (const event of events.filter((e) => e.sequence_number > sent && visible(e))) {
        stream.write(`id: ${event.sequence_number}\nevent: ${category(event)}\ndata: ${JSON.stringify(event)}\n\n`);
        sent = event.sequence_number;
      }
    };
    // Batches go out one after another, each once its check has passed.
    let delivering = Promise.resolve();
    const deliver = (events: AuditEvent[]) => {
      delivering = delivering.then(async () => {
        if (await accepted()) send(events);
      });
    };
    // A reconnecting client (`Last-Event-ID`) first gets what it missed. Live events that arrive
    // meanwhile wait, so everything goes out once and in order.
    const resumeFrom = Number(request.headers['last-event-id']);
    const resuming = Number.isSafeInteger(resumeFrom) && resumeFrom >= 0;
    const waiting: AuditEvent[] = [];
    let live = !resuming;
    const unsubscribe = await services.feed.subscribe((events) => (live ? deliver(events) : waiting.push(...events)));
    if (resuming) {
      sent = resumeFrom;
      deliver(await services.feed.since(resumeFrom, RESUME_LIMIT));
      deliver(waiting);
      live = true;
    }
    const heartbeat = setInterval(() => stream.write(': ping\n\n'), HEARTBEAT_MS);
    const recheck = setInterval(() => void accepted(), RECHECK_MS);
    const forget = services.feed.onClose(end);
    stream.once('close', end);
    if (request.raw.socket.destroyed) end(); // gone while we subscribed
    await ended;
    forget();
    clearInterval(heartbeat);
    clearInterval(recheck);
    unsubscribe();
    await delivering;
    // A clean end (the last chunk), so a client reads the end of the stream, not a broken
    // connection; with `Connection: close` the socket goes with it and holds no shutdown up.
    stream.end();
  }),
];
