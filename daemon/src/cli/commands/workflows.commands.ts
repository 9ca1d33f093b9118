import type { Command } from 'commander';
import type { Workflow, WorkflowEdge, WorkflowNode } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { minute, printFields, printJson, printTable, type Column } from '../output.js';
import { integer, JSON_HELP } from './options.js';

const columns: Column<Workflow>[] = [
  ['NAME', (w) => w.name],
  ['SLUG', (w) => w.slug],
  ['NODES', (w) => w.node_count],
  ['EDGES', (w) => w.edge_count],
  ['UPDATED', (w) => minute(w.updated_at)],
];
const nodeColumns: Column<WorkflowNode>[] = [
  ['NODE', (n) => n.id],
  ['TYPE', (n) => n.node_type],
  ['LABEL', (n) => n.label],
  ['AGENT', (n) => (n.agent ? `${n.agent.name} (${n.agent.status})` : n.agent_id)],
];
const edgeColumns: Column<WorkflowEdge>[] = [
  ['EDGE', (e) => e.id],
  ['FROM', (e) => e.source_node_id],
  ['TO', (e) => e.target_node_id],
  ['CONDITION', (e) => (e.edge_type === 'conditional' ? e.condition : null)],
];

/** `workflows list|show`. */
export function registerWorkflowCommands(program: Command): void {
  const workflows = program.command('workflows').description("the project's workflows");

  workflows
    .command('list')
    .description('list workflows')
    .option('-q, --search <text>', 'part of the name')
    .option('--limit <n>', 'at most this many', integer(1, 1000), 100)
    .option('--offset <n>', 'skip this many', integer(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--json', JSON_HELP)
    .action(async (options: { search?: string; limit: number; offset: number; json?: boolean }, command: Command) => {
      const { data, total } = await contextOf(command)
        .api()
        .call('listWorkflows', { query: { q: options.search, limit: options.limit, offset: options.offset } });
      if (options.json) return printJson(data);
      printTable(data, columns);
      if (total !== null && total > options.offset + data.length)
        console.error(`${data.length} of ${total} workflows shown; see --limit and --offset.`);
    });

  workflows
    .command('show <workflow>')
    .description('one workflow (by name, slug or id) with its nodes and edges')
    .option('--json', 'print {workflow, graph} as the API answers them')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const api = contextOf(command).api();
      const [{ data: workflow }, { data: graph }] = await Promise.all([
        api.call('getWorkflow', { params: { name } }),
        api.call('getWorkflowGraph', { params: { name } }),
      ]);
      if (options.json) return printJson({ workflow, graph });
      printFields([
        ['name', workflow.name],
        ['slug', workflow.slug],
        ['id', workflow.id],
        ['definition', workflow.definition],
        ['updated', workflow.updated_at],
      ]);
      console.log('');
      printTable(graph.nodes, nodeColumns);
      console.log('');
      printTable(graph.edges, edgeColumns);
    });
}
