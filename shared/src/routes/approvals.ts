import { Type } from 'typebox';
import {
  ApprovalList,
  ApprovalListQuery,
  ApprovalParams,
  ApprovalRequest,
  CreateApprovalRequest,
  DecideApprovalRequest,
} from '../schemas/approvals.js';
import { defineRoutes } from '../route.js';

export const approvalsRoutes = defineRoutes({
  requestApproval: {
    method: 'POST',
    path: '/v1/approvals',
    auth: 'agent',
    tag: 'approvals',
    summary: 'Ask a human to approve one use of a tool; the same idempotency_key returns the same request',
    body: CreateApprovalRequest,
    response: { 201: ApprovalRequest },
  },
  getApproval: {
    method: 'GET',
    path: '/v1/approvals/{id}',
    auth: 'any',
    tag: 'approvals',
    summary: 'One approval request (the agent that asked, or a member of its project)',
    params: ApprovalParams,
    response: { 200: ApprovalRequest },
  },
  listApprovals: {
    method: 'GET',
    path: '/v1/approvals',
    auth: 'project_member',
    tag: 'approvals',
    summary: "The project's approval requests, newest first (filter by status)",
    querystring: ApprovalListQuery,
    response: { 200: ApprovalList },
    paged: true,
  },
  approveApproval: {
    method: 'POST',
    path: '/admin/approvals/{id}/approve',
    auth: 'project_admin',
    tag: 'approvals',
    summary: 'Approve a pending request',
    params: ApprovalParams,
    body: DecideApprovalRequest,
    response: { 200: ApprovalRequest },
  },
  denyApproval: {
    method: 'POST',
    path: '/admin/approvals/{id}/deny',
    auth: 'project_admin',
    tag: 'approvals',
    summary: 'Deny a pending request',
    params: ApprovalParams,
    body: DecideApprovalRequest,
    response: { 200: ApprovalRequest },
  },
  events: {
    method: 'GET',
    path: '/v1/events',
    auth: 'project_member',
    tag: 'events',
    summary: 'Server-Sent Events: every audited change of the project (agents, keys, approvals, …) as it commits',
    response: {
      200: Type.String({ description: 'text/event-stream; event = the audit category, data = the audit event' }),
    },
  },
});
