/*
 * B9's upstream: the Streamable HTTP MCP server the tests use (built with the official SDK), in a
 * process of its own, so that the load generator and it do not share an event loop. Prints
 * `{"url": …}` on stdout once it listens.
 */
import { startHttpUpstream } from '../daemon/src/testing/mcp-upstream.js';

const upstream = await startHttpUpstream();
process.stdout.write(`${JSON.stringify({ url: upstream.url })}\n`);
process.on('SIGTERM', () => void upstream.close().then(() => process.exit(0)));
