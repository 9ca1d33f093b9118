import { Empty, PageQuery } from '../schemas/common.js';
import {
  CreateProjectRequest,
  MemberParams,
  Membership,
  MembershipList,
  Project,
  ProjectList,
  ProjectParams,
  SetMembershipRequest,
} from '../schemas/projects.js';
import { defineRoutes } from '../route.js';

export const projectsRoutes = defineRoutes({
  listProjects: {
    method: 'GET',
    path: '/admin/projects',
    auth: 'user',
    tag: 'projects',
    summary: 'Projects the caller can see',
    querystring: PageQuery,
    response: { 200: ProjectList },
    paged: true,
  },
  createProject: {
    method: 'POST',
    path: '/admin/projects',
    auth: 'user_admin',
    tag: 'projects',
    summary: 'Create a project; the creator becomes its admin',
    body: CreateProjectRequest,
    response: { 201: Project },
  },
  listMembers: {
    method: 'GET',
    path: '/admin/projects/{id}/members',
    auth: 'user',
    tag: 'projects',
    summary: "A project's members",
    params: ProjectParams,
    querystring: PageQuery,
    response: { 200: MembershipList },
    paged: true,
  },
  setMember: {
    method: 'PUT',
    path: '/admin/projects/{id}/members/{user_id}',
    auth: 'user',
    tag: 'projects',
    summary: "Add a member or change a member's privilege (project admin)",
    params: MemberParams,
    body: SetMembershipRequest,
    response: { 200: Membership },
  },
  removeMember: {
    method: 'DELETE',
    path: '/admin/projects/{id}/members/{user_id}',
    auth: 'user',
    tag: 'projects',
    summary: 'Remove a member (project admin)',
    params: MemberParams,
    response: { 204: Empty },
  },
});
