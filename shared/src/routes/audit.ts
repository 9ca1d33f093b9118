import { AuditList, AuditQuery, AuditVerifyResult } from '../schemas/audit.js';
import { defineRoutes } from '../route.js';

export const auditRoutes = defineRoutes({
  listAudit: {
    method: 'GET',
    path: '/v1/audit',
    auth: 'project_member',
    tag: 'audit',
    summary: 'Audit events of the project, newest first (page by cursor to hold still while events are added)',
    querystring: AuditQuery,
    response: { 200: AuditList },
    paged: true,
  },
  verifyAudit: {
    method: 'GET',
    path: '/v1/audit/verify',
    auth: 'user',
    tag: 'audit',
    summary: 'Recompute the hash chain over every audit event',
    response: { 200: AuditVerifyResult },
  },
});
