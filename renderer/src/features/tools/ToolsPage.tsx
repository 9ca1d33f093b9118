import { CapabilityRoles } from './CapabilityRoles.js';
import { ToolRegistry } from './ToolRegistry.js';

/**
 * The tool registry (the server's ceiling: an agent may only ever use registered tools) and the
 * capability roles that bundle tools. Changes reach every agent concerned and end their tokens.
 */
export function ToolsPage(): React.JSX.Element {
  return (
    <section>
      <ToolRegistry />
      <CapabilityRoles />
    </section>
  );
}
