import { useQuery } from '@tanstack/react-query';
import { Outlet, useSearch } from '@tanstack/react-router';
import { createContext, useContext } from 'react';
import type { Project } from '@gatehouse/shared';
import { projectQueries } from '../features/projects/queries.js';
import { ErrorNote, Loading } from '../ui/components.js';

const ProjectContext = createContext<Project | null>(null);

/**
 * The project the console was last in, kept by the shell: a URL naming no project (the desktop app
 * opens `#/approvals` from a notification) stays in it rather than falling back to the default.
 */
export const LastProjectContext = createContext<{ current: string | undefined }>({ current: undefined });

/**
 * The project the URL names (`?project=<slug>`), else the one the console was last in, else the
 * default one, else the first the user is a member of.
 */
export function useChosenProject(): {
  project: Project | undefined;
  projects: ReturnType<typeof useProjects>;
  /** Whether the URL names the project. */
  named: boolean;
} {
  const projects = useProjects();
  const last = useContext(LastProjectContext);
  const named = useSearch({ strict: false, select: (search) => search.project });
  const slug = named ?? last.current;
  const project =
    projects.data?.find((p) => p.slug === slug) ??
    projects.data?.find((p) => p.slug === 'default') ??
    projects.data?.[0];
  return { project, projects, named: named !== undefined };
}

const useProjects = () => useQuery(projectQueries.list());

/** The project the screens under the project layout act in. */
export function useProject(): Project {
  const project = useContext(ProjectContext);
  if (!project) throw new Error('useProject outside the project layout');
  return project;
}

/** Screens that act in one project: shown once the project is known, with a word when there is none. */
export function ProjectLayout(): React.JSX.Element {
  const { project, projects } = useChosenProject();
  if (project)
    return (
      <ProjectContext.Provider value={project}>
        <Outlet />
      </ProjectContext.Provider>
    );
  if (projects.isError) return <ErrorNote error={projects.error} />;
  if (projects.data)
    return <p className="empty">You are not a member of any project yet: an admin can add you to one under Users.</p>;
  return <Loading />;
}
